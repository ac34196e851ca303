#!/usr/bin/env bash
# Quantization quality, minima vs llama-quantize, on the same source file: for every type, both
# tools quantize SRC (--pure: one type for every 2-D weight), then `minima tensor-diff` measures
# each output's relative RMSE against SRC (‖x̂ − x‖/‖x‖ over all 2-D weights) and how many tensors
# the two outputs share byte for byte. Prints a Markdown table (docs/quantization.md).
#
#   bench/quant-compare.sh LLAMA_BUILD_DIR SRC.gguf [TYPES...]   (threads: $THREADS, default 2)
#
# llama.cpp is built outside the repository (DEVELOPERS.md); nothing of it is committed.
set -euo pipefail
llama=${1:?llama.cpp build dir}
src=${2:?source GGUF (F32/F16/BF16)}
shift 2
types=("$@")
[ ${#types[@]} -eq 0 ] && types=(Q8_0 Q6_K Q5_1 Q5_0 Q5_K Q4_1 Q4_0 Q4_K Q3_K Q2_K)
here=$(cd "$(dirname "$0")/.." && pwd)
minima=${MINIMA:-$here/build/release/bin/minima}
threads=${THREADS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rmse() { "$minima" tensor-diff "$src" "$1" --json | python3 -c 'import json,sys; print("%.6f" % json.load(sys.stdin)["rel_rmse"])'; }
same() { "$minima" tensor-diff "$1" "$2" --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print("%d/%d" % (j["identical"], j["compared"]))'; }

echo "source: $(basename "$src"), $threads threads"
echo
echo "| type | llama-quantize rel. RMSE | minima rel. RMSE | minima / llama | identical tensors | llama-quantize s | minima s |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for t in "${types[@]}"; do
  s0=$(date +%s.%N)
  "$llama/bin/llama-quantize" --pure "$src" "$work/llama.gguf" "$t" "$threads" >/dev/null 2>&1
  s1=$(date +%s.%N)
  "$minima" quantize "$src" "$work/minima.gguf" "$t" --pure --threads "$threads" --quiet >/dev/null
  s2=$(date +%s.%N)
  a=$(rmse "$work/llama.gguf")
  b=$(rmse "$work/minima.gguf")
  echo "| $t | $a | $b | $(python3 -c "print('%.3f' % ($b / $a))") | $(same "$work/llama.gguf" "$work/minima.gguf") | $(python3 -c "print('%.1f' % ($s1 - $s0))") | $(python3 -c "print('%.1f' % ($s2 - $s1))") |"
done
