#!/usr/bin/env bash
# KL divergence to the F32 model of llama-quantize's files (the conformance pack's, made from the
# same *-F32.gguf) and of minima quantize's, on the same text: prints a Markdown table.
#
#   bench/quant-kl.sh SHARED MODEL-BASENAME TEXT [TYPES...]    e.g. ../shared llama-tiny tests/model/data/stories.txt
set -euo pipefail
shared=${1:?shared dir}
m=${2:?model base name}
text=${3:?text file}
shift 3
types=("$@")
[ ${#types[@]} -eq 0 ] && types=(Q6_K Q5_K Q4_K Q3_K Q2_K Q5_K_M Q4_K_M Q3_K_M)
here=$(cd "$(dirname "$0")/.." && pwd)
minima=${MINIMA:-$here/build/release/bin/minima}
pack=$shared/conformance/models
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kl() {
  "$minima" perplexity --model "$1" --kl-base "$pack/$m-F32.gguf" --file "$text" --ctx 128 --json |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print("%.4f | %.4f | %.1f%%" % (j["kl_mean"], j["kl_p99"], 100*j["top1_agreement"]))'
}
echo "| $m | llama-quantize KL mean | p99 | top-1 | minima KL mean | p99 | top-1 |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for t in "${types[@]}"; do
  pure=--pure
  case $t in *_M) pure= ;; esac
  "$minima" quantize "$pack/$m-F32.gguf" "$work/q.gguf" "$t" $pure --quiet >/dev/null
  echo "| $t | $(kl "$pack/$m-$t.gguf") | $(kl "$work/q.gguf") |"
done
