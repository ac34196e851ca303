#!/usr/bin/python3
"""Runs `minima logits` on every model and case of ../shared/conformance and applies the pack's own
acceptance rule (check_rule.py, README section 5) to the outputs.

  conformance.py MINIMA SHARED WORKDIR MODE [MODELS]
                                                  MODE: batch | incremental | exact | exact-incremental
                                                  (a suffix such as batch_scalar only names the output folder;
                                                  the kernel set is forced by MINIMA_CPU in the environment)

batch / incremental: R1-R4 on every model file (whole prompt as one batch, or token by token).
exact*: the scalar reference path with F32 activations, judged by strict mode (S) as well.
MODELS: a folder of model files to run instead of the pack's (same names, e.g. files written by
`minima quantize`): only the goldens whose model file is there are run and judged.
Exit 0 when every model file passes (check_rule.py --require-all), 77 when ../shared is absent
outside CI (ctest reports a skip), 1 otherwise.
"""
import glob
import json
import os
import subprocess
import sys


def main():
    minima, shared, work, out_name = sys.argv[1:5]
    models = sys.argv[5] if len(sys.argv) > 5 else None
    mode = out_name.split("_")[0]
    pack = os.path.join(shared, "conformance")
    if not os.path.isdir(pack):
        msg = f"conformance pack not found at {pack}"
        if os.environ.get("CI") == "true":
            print(f"FAIL: CI=true but {msg}")
            return 1
        print(f"SKIP: {msg} (clone the shared data beside the repository)")
        return 77
    out = os.path.join(work, out_name)
    os.makedirs(out, exist_ok=True)
    for old in glob.glob(os.path.join(out, "*")):
        os.remove(old)
    goldens = sorted(glob.glob(os.path.join(pack, "golden", "*.json")))
    n = 0
    for g in goldens:
        j = json.load(open(g))
        if "acceptance" not in j:
            continue
        name = j["model"][:-5] if j["model"].endswith(".gguf") else j["model"]
        model = os.path.join(models or os.path.join(pack, "models"), j["model"])
        if models and not os.path.exists(model):
            continue
        cmd = [minima, "logits", "--model", model,
               "--tokens", ",".join(map(str, j["prompt_tokens"])), "--greedy", str(len(j["exact_greedy_tokens"])),
               "--out", os.path.join(out, f"{name}.{j['case']}"), "--threads", "2"]
        if mode in ("incremental", "exact-incremental"):
            cmd.append("--incremental")
        if mode.startswith("exact"):
            cmd.append("--exact")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0 and "more than this CPU supports" in r.stderr and os.environ.get("MINIMA_CPU"):
            print(f"SKIP: this CPU cannot run MINIMA_CPU={os.environ['MINIMA_CPU']}: {r.stderr.strip()}")
            return 77
        if r.returncode != 0:
            print(f"FAIL: {' '.join(cmd)}\n{r.stderr}")
            return 1
        n += 1
    print(f"{out_name} (MINIMA_CPU={os.environ.get('MINIMA_CPU', 'auto')}): {n} model/case runs written to {out}")
    if n == 0:
        print(f"FAIL: no model file of the pack found in {models}")
        return 1
    check = [sys.executable, os.path.join(pack, "check_rule.py"), os.path.join(pack, "golden"), out]
    if not models:
        check.append("--require-all")
    if mode.startswith("exact"):
        check.append("--strict")
    r = subprocess.run(check, capture_output=True, text=True)
    print(r.stdout + r.stderr)
    return 0 if r.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
