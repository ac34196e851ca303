#!/usr/bin/env python3
"""Decode's share of the DRAM bandwidth roofline, robust to a machine whose bandwidth drifts.

On a shared host the bandwidth a probe sees moves by 20-40% within seconds, so one probe and one
decode run can put the share anywhere from 70% to over 100%. This script brackets every decode
run between two probes (`minima bench --peak`), takes the run's share against the mean of the two,
and repeats the pair many times, models interleaved; it reports each model's median share with its
quartiles, which a single lucky or unlucky round cannot move.

  python3 bench/decode_roofline.py --minima build/release/bin/minima --rounds 10 \
      /work/models/tinyllama-Q4_0.gguf /work/models/tinyllama-Q8_0.gguf
"""
import argparse
import json
import statistics
import subprocess
import sys


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    starts = [i for i in (out.find("["), out.find("{")) if i >= 0]
    return json.loads(out[min(starts):])


def probe(args):
    return run_json([args.minima, "bench", "--peak", "-t", str(args.threads), "--json"])["read_gbps"]


def decode(args, model):
    rows = run_json([args.minima, "bench", "--model", model, "-t", str(args.threads), "-p", "0",
                     "-n", str(args.n_gen), "-r", str(args.reps), "--no-peak", "--json"])
    row = rows[-1]
    return row["avg_ts"], row["achieved_gbps"]


def quartiles(xs):
    if len(xs) < 2:
        return xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minima", required=True)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-n", "--n-gen", type=int, default=128)
    ap.add_argument("-r", "--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()

    shares = {m: [] for m in args.models}
    speeds = {m: [] for m in args.models}
    before = probe(args)
    print("| round | model | probe before GB/s | decode t/s | decode GB/s | probe after GB/s | share |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for rnd in range(1, args.rounds + 1):
        for m in args.models:
            ts, gbps = decode(args, m)
            after = probe(args)
            share = gbps / ((before + after) / 2)
            shares[m].append(share)
            speeds[m].append(ts)
            name = m.rsplit("/", 1)[-1]
            print(f"| {rnd} | {name} | {before:.1f} | {ts:.2f} | {gbps:.1f} | {after:.1f} | "
                  f"{100 * share:.0f}% |", flush=True)
            before = after
    print()
    print("| model | rounds | decode t/s (median) | share of roofline: median | quartiles |")
    print("|---|---:|---:|---:|---:|")
    for m in args.models:
        lo, hi = quartiles(shares[m])
        print(f"| {m.rsplit('/', 1)[-1]} | {len(shares[m])} | {statistics.median(speeds[m]):.2f} | "
              f"{100 * statistics.median(shares[m]):.0f}% | {100 * lo:.0f}–{100 * hi:.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
