#!/usr/bin/python3
"""minima vs llama.cpp, same files, same threads, same machine, measured alternately in one run.

  bench/compare_llama.py --llama-bin DIR --minima BIN [-t 2] [-p 512] [-n 128] [-r 3] [--rounds 2] MODEL...

For every round and every model it runs llama-bench and `minima bench` back to back (llama.cpp first in
odd rounds, minima first in even rounds, so drift in the machine's speed hits both), each under
/usr/bin/time for the peak RSS, then prints one markdown table: t/s of both (mean over rounds and
repetitions), the ratio minima/llama.cpp, minima's share of the roofline (`minima bench --peak`), and
the peak RSS of both. llama.cpp is built outside the repository (docs/performance.md says how).
"""
import argparse
import json
import os
import re
import subprocess
import sys


def timed(cmd):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    return r.stdout, int(m.group(1)) * 1024 if m else 0


def parse_json_list(out):
    start = out.index("[")
    return json.loads(out[start:])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bin", required=True, help="llama.cpp build/bin folder (holds llama-bench)")
    ap.add_argument("--minima", default="build/release/bin/minima")
    ap.add_argument("-t", type=int, default=2)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-r", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()

    peak_out, _ = timed([a.minima, "bench", "--peak", "--json", "-t", str(a.t)])
    peak = json.loads(peak_out)
    res = {}  # (model, test) -> {"llama": [ts...], "minima": [...], "rss_llama": x, "rss_minima": y, "gbps": [...]}
    for rnd in range(a.rounds):
        for m in a.models:
            llama = [os.path.join(a.llama_bin, "llama-bench"), "-m", m, "-t", str(a.t), "-p", str(a.p), "-n", str(a.n),
                     "-r", str(a.r), "-o", "json"]
            mini = [a.minima, "bench", "--model", m, "-t", str(a.t), "-p", str(a.p), "-n", str(a.n), "-r", str(a.r),
                    "--json", "--no-peak"]
            order = [("llama", llama), ("minima", mini)] if rnd % 2 == 0 else [("minima", mini), ("llama", llama)]
            for who, cmd in order:
                out, rss = timed(cmd)
                for t in parse_json_list(out):
                    test = f"pp{t['n_prompt']}" if t["n_prompt"] > 0 else f"tg{t['n_gen']}"
                    e = res.setdefault((os.path.basename(m), test), {"llama": [], "minima": [], "gbps": [], "gops": []})
                    e[who] += t["samples_ts"]
                    e["rss_" + who] = max(e.get("rss_" + who, 0), rss)
                    if who == "minima":
                        e["unit"] = t.get("prefill_kernel", "fp32")
                        e["gbps"].append(t["achieved_gbps"])
                        e["gops"].append(t["achieved_gops"])
            print(f"round {rnd + 1}/{a.rounds}: {m} done", file=sys.stderr)

    mean = lambda v: sum(v) / len(v)
    print(f"machine peaks ({a.t} threads): DRAM read {peak['read_gbps']:.1f} GB/s, INT8 {peak['int8_gops']:.0f} GOP/s "
          f"({peak['int8_kind']}), FP32 {peak['fp32_gflops']:.0f} GFLOP/s\n")
    print("| model | test | llama.cpp t/s | minima t/s | minima / llama.cpp | minima share of roofline | peak RSS llama.cpp | peak RSS minima |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (m, test), e in res.items():
        lt, mt = mean(e["llama"]), mean(e["minima"])
        if test.startswith("tg"):
            share = f"{100 * mean(e['gbps']) / peak['read_gbps']:.0f}% of BW"
        else:
            # minima's prefill runs the integer GEMM or the F32 FMA GEMM (bench --json says
            # which): that unit's peak is its roofline.
            key, unit = ("int8_gops", "INT8") if e.get("unit") == "int8" else ("fp32_gflops", "FP32")
            share = f"{100 * mean(e['gops']) / peak[key]:.0f}% of {unit}" if peak[key] else "-"
        print(f"| {m} | {test} | {lt:.2f} | {mt:.2f} | {mt / lt:.2f}x | {share} | "
              f"{e['rss_llama'] / 2**20:.0f} MiB | {e['rss_minima'] / 2**20:.0f} MiB |")


if __name__ == "__main__":
    main()
