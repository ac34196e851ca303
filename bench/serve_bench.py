#!/usr/bin/python3
"""Serving benchmark: aggregate tokens/s and time-to-first-token at several concurrency levels.

Against a running OpenAI-compatible server:
  bench/serve_bench.py --url http://127.0.0.1:8080 [-c 1,4,16] [--requests-per-client 4] [--max-tokens 128]

Or start the servers itself, one at a time on the same model file, alternating their order each round
(so drift in the machine's speed hits both), and print one table:
  bench/serve_bench.py --model M.gguf --minima build/release/bin/minima \\
      --llama-server /path/to/llama.cpp/build/bin/llama-server [-t 2] [--rounds 2]

Every request is a streaming /v1/completions call with a distinct prompt (no prefix is shared, so no
server gets a prompt-cache advantage), `ignore_eos` (an extension both servers accept) so every
request generates exactly --max-tokens tokens, and `stream_options.include_usage` for the count.
TTFT is measured from sending the request to the first streamed token. Aggregate tokens/s is the
completion tokens of a level divided by the level's wall time. Python standard library only.
"""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

WORDS = ("time little girl dog park ball sun tree happy friend bird red big day mom house "
         "play went saw found river cake garden boat blue star song walk jump small cat").split()


def prompt_for(i, n_words, seed):
    rng = random.Random(seed * 100003 + i)
    return f"Story {i}: " + " ".join(rng.choice(WORDS) for _ in range(n_words))


def request(url, model, prompt, max_tokens, timeout):
    """One streaming completion: (ttft_s, total_s, completion_tokens)."""
    u = urllib.parse.urlparse(url)
    body = json.dumps({"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                       "stream": True, "stream_options": {"include_usage": True},
                       "ignore_eos": True})
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    t0 = time.perf_counter()
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    res = conn.getresponse()
    if res.status != 200:
        raise RuntimeError(f"HTTP {res.status}: {res.read()[:300]!r}")
    ttft, chunks, usage = None, 0, None
    while True:
        line = res.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            break
        ev = json.loads(data)
        if ev.get("usage"):
            usage = ev["usage"]
        for ch in ev.get("choices") or []:
            if ch.get("text"):
                chunks += 1
                if ttft is None:
                    ttft = time.perf_counter() - t0
    total = time.perf_counter() - t0
    conn.close()
    n = usage["completion_tokens"] if usage and "completion_tokens" in usage else chunks
    return (ttft if ttft is not None else total), total, n


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def run_level(url, model, conc, n_req, a, seed):
    results, errors, lock = [], [], threading.Lock()
    next_i = [0]

    def worker():
        while True:
            with lock:
                i = next_i[0]
                if i >= n_req:
                    return
                next_i[0] += 1
            try:
                r = request(url, model, prompt_for(i, a.prompt_words, seed), a.max_tokens, a.timeout)
                with lock:
                    results.append(r)
            except Exception as e:  # a failed request is reported, never counted as throughput
                with lock:
                    errors.append(str(e))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    toks = sum(r[2] for r in results)
    ttfts = [r[0] * 1000 for r in results]
    return {"concurrency": conc, "requests": len(results), "errors": len(errors),
            "first_error": errors[0] if errors else None, "wall_s": wall,
            "completion_tokens": toks, "tokens_per_s": toks / wall if wall > 0 else 0.0,
            "ttft_p50_ms": percentile(ttfts, 50), "ttft_p99_ms": percentile(ttfts, 99)}


def model_id(url):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request("GET", "/v1/models")
    res = conn.getresponse()
    body = res.read()
    if res.status != 200:
        raise RuntimeError(f"/v1/models: HTTP {res.status}")
    return json.loads(body)["data"][0]["id"]


def bench_url(url, a, label, seed):
    model = model_id(url)
    request(url, model, "warm up", 8, a.timeout)  # first-touch of the weights, thread start-up
    rows = []
    for c in a.concurrency:
        r = run_level(url, model, c, max(c * a.requests_per_client, 2), a, seed)
        r["server"] = label
        rows.append(r)
        print(f"  {label:13s} c={c:3d}  {r['tokens_per_s']:8.1f} tok/s  TTFT p50 {r['ttft_p50_ms']:8.0f} ms"
              f"  p99 {r['ttft_p99_ms']:8.0f} ms  ({r['requests']} ok, {r['errors']} failed)",
              file=sys.stderr, flush=True)
        if r["errors"]:
            print(f"    first error: {r['first_error']}", file=sys.stderr)
    return rows


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(cmd, port, timeout=300):
    log = open(os.devnull, "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}: {' '.join(cmd)}")
        try:
            # Ready means /health answers 200 (both servers answer 503 while loading; /v1/models
            # may already list the model then).
            u = urllib.parse.urlparse(url)
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            conn.request("GET", "/health")
            res = conn.getresponse()
            res.read()
            if res.status != 200:
                raise RuntimeError(f"/health: HTTP {res.status}")
            model_id(url)
            return proc, url
        except Exception:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    sys.exit(f"server did not become ready in {timeout} s: {' '.join(cmd)}")


def stop_server(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def server_cmds(a, port):
    # Same KV memory for both: `slots` sequences of `slot_ctx` positions.
    slots = max(a.concurrency)
    slot_ctx = a.slot_ctx
    cmds = {}
    if a.minima:
        cmds["minima"] = [a.minima, "serve", "--model", a.model, "--port", str(port), "--threads",
                          str(a.t), "--ctx", str(slot_ctx), "--parallel-limit", str(slots),
                          "--kv-blocks", str(slots * slot_ctx // 16)]
    if a.llama_server:
        cmds["llama-server"] = [a.llama_server, "-m", a.model, "--host", "127.0.0.1", "--port",
                                str(port), "-t", str(a.t), "-np", str(slots), "-cb", "-c",
                                str(slots * slot_ctx)]
    return cmds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running server (else --model with --minima / --llama-server)")
    ap.add_argument("--model", help="GGUF file the started servers load")
    ap.add_argument("--minima", help="minima binary to start")
    ap.add_argument("--llama-server", help="llama-server binary to start")
    ap.add_argument("-t", type=int, default=2, help="threads of the started servers")
    ap.add_argument("-c", "--concurrency", default="1,4,16")
    ap.add_argument("--requests-per-client", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--prompt-words", type=int, default=48)
    ap.add_argument("--slot-ctx", type=int, default=256, help="context per sequence of started servers")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    a = ap.parse_args()
    a.concurrency = [int(x) for x in a.concurrency.split(",")]

    rows = []
    if a.url:
        rows = bench_url(a.url, a, "server", 1)
    else:
        if not a.model or not (a.minima or a.llama_server):
            ap.error("give --url, or --model with --minima and/or --llama-server")
        for rnd in range(a.rounds):
            names = list(server_cmds(a, 0).keys())
            if rnd % 2 == 1:
                names.reverse()
            for name in names:
                port = free_port()
                cmd = server_cmds(a, port)[name]
                print(f"round {rnd + 1}: {' '.join(cmd)}", file=sys.stderr, flush=True)
                proc, url = start_server(cmd, port)
                try:
                    rows += bench_url(url, a, name, rnd + 1)
                finally:
                    stop_server(proc)

    if a.json:
        print(json.dumps(rows, indent=1))
        return
    # Mean over rounds per (server, concurrency).
    agg = {}
    for r in rows:
        agg.setdefault((r["server"], r["concurrency"]), []).append(r)
    print(f"| server | concurrency | tokens/s | TTFT p50 ms | TTFT p99 ms | requests (failed) |")
    print("|---|---:|---:|---:|---:|---:|")
    for (srv, c), rs in sorted(agg.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        mean = lambda k: sum(x[k] for x in rs) / len(rs)
        print(f"| {srv} | {c} | {mean('tokens_per_s'):.1f} | {mean('ttft_p50_ms'):.0f} | "
              f"{mean('ttft_p99_ms'):.0f} | {sum(x['requests'] for x in rs)} ({sum(x['errors'] for x in rs)}) |")
    servers = sorted({k[0] for k in agg})
    if "minima" in servers and "llama-server" in servers:
        for c in a.concurrency:
            m = agg.get(("minima", c))
            l = agg.get(("llama-server", c))
            if m and l:
                mt = sum(x["tokens_per_s"] for x in m) / len(m)
                lt = sum(x["tokens_per_s"] for x in l) / len(l)
                print(f"\nconcurrency {c}: minima / llama-server aggregate throughput = {mt / lt:.2f}x")


if __name__ == "__main__":
    main()
