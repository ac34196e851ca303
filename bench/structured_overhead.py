#!/usr/bin/env python3
"""Decode speed with and without a JSON Schema constraint (issue 6's overhead target), alternately.

  bench/structured_overhead.py --minima build/release/bin/minima --model M.gguf --schema S.json
                               [-t 2] [--rounds 4]

Each round runs `minima generate --json-schema S` (temperature 1, seed = round) and then the same
prompt unconstrained for as many tokens with --ignore-eos (so both decode the same count at the
same context lengths), alternating which goes first. Prints both decode speeds per round, their
means, the slowdown, and the time the constraint itself took per token (`--stats`).
"""
import argparse
import re
import subprocess
import sys

STATS = re.compile(r"generated: (\d+) tokens in ([\d.]+) s \(([\d.]+) t/s\)")
CONSTRAINT = re.compile(r"constraint: ([\d.]+) ms of the generation \(([\d.]+) us per token\)")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    m = STATS.search(p.stderr)
    if not m:
        sys.exit(f"no stats in: {p.stderr}")
    c = CONSTRAINT.search(p.stderr)
    return int(m.group(1)), float(m.group(3)), (float(c.group(2)) if c else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minima", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--prompt", default="Customer record:")
    ap.add_argument("-t", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=4)
    a = ap.parse_args()
    base = [a.minima, "generate", "-m", a.model, "-p", a.prompt, "--temp", "1", "--stats", "-t", str(a.t)]
    free_ts, cons_ts, per_tok = [], [], []
    print("| round | tokens | unconstrained t/s | with schema t/s | constraint us/token |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in range(1, a.rounds + 1):
        seed = ["--seed", str(r)]
        def constrained():
            return run(base + seed + ["-n", "1000", "--json-schema", a.schema])
        def free(n):
            return run(base + seed + ["-n", str(n), "--ignore-eos"])
        if r % 2:
            n, cts, us = constrained()
            _, fts, _ = free(n)
        else:
            # The token count comes from a constrained run; measure it first (untimed), then
            # the unconstrained run before the timed constrained one.
            n, _, _ = constrained()
            _, fts, _ = free(n)
            n, cts, us = constrained()
        free_ts.append(fts)
        cons_ts.append(cts)
        per_tok.append(us)
        print(f"| {r} | {n} | {fts:.2f} | {cts:.2f} | {us:.0f} |")
    f = sum(free_ts) / len(free_ts)
    c = sum(cons_ts) / len(cons_ts)
    print(f"\nmean: unconstrained {f:.2f} t/s, with schema {c:.2f} t/s: "
          f"{100 * (f - c) / f:+.1f}% slowdown; constraint {sum(per_tok) / len(per_tok):.0f} us/token")


if __name__ == "__main__":
    main()
