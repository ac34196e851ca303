#!/usr/bin/python3
"""`minima quantize` output through the conformance pack: every *-F32.gguf of the pack is quantized
by minima to the legacy types the pack ships (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1; --pure for the tiny
models, the F16 fallback policy for stories260K), written under the pack's file names, and then
judged against the pack's goldens by conformance.py (R1-R4, batch mode).

  quantized.py MINIMA SHARED WORKDIR

Exit codes as conformance.py (77: ../shared absent outside CI).
"""
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"]


def main():
    minima, shared, work = sys.argv[1:4]
    pack = os.path.join(shared, "conformance", "models")
    if not os.path.isdir(pack):
        if os.environ.get("CI") == "true":
            print(f"FAIL: CI=true but the conformance pack is missing at {pack}")
            return 1
        print(f"SKIP: conformance pack not found at {pack}")
        return 77
    models = os.path.join(work, "quantized-models")
    os.makedirs(models, exist_ok=True)
    for old in glob.glob(os.path.join(models, "*")):
        os.remove(old)
    n = 0
    for src in sorted(glob.glob(os.path.join(pack, "*-F32.gguf"))):
        base = os.path.basename(src)[: -len("-F32.gguf")]
        for t in TYPES:
            if not os.path.exists(os.path.join(pack, f"{base}-{t}.gguf")):
                continue  # the pack has no golden for this file
            out = os.path.join(models, f"{base}-{t}.gguf")
            cmd = [minima, "quantize", src, out, t, "--quiet", "--threads", "2"]
            if not base.startswith("stories"):
                cmd.append("--pure")
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL: {' '.join(cmd)}\n{r.stderr}")
                return 1
            n += 1
    print(f"quantized {n} files into {models}")
    return subprocess.run([sys.executable, os.path.join(HERE, "conformance.py"), minima, shared, work,
                           "batch_quantized", models]).returncode


if __name__ == "__main__":
    sys.exit(main())
