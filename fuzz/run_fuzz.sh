#!/usr/bin/env bash
# Runs the GGUF parser fuzzer for SECONDS (default 60) from a freshly generated seed corpus.
# Fails on any crash, leak, sanitizer report, timeout or out-of-memory finding.
set -euo pipefail
fuzzer=$1 seedgen=$2 workdir=$3 seconds=${4:-60}
rm -rf "$workdir" && mkdir -p "$workdir/corpus" "$workdir/artifacts"
"$seedgen" "$workdir/seeds"
cd "$workdir"
"$fuzzer" corpus seeds -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -artifact_prefix=artifacts/ -print_final_stats=1 2>fuzz.log || {
  tail -n 60 fuzz.log
  echo "gguf_fuzz: FINDING (artifacts in $workdir/artifacts)"
  exit 1
}
grep -E '^(stat::number_of_executed_units|#[0-9]+ *DONE)' fuzz.log || true
echo "gguf_fuzz: ${seconds}s without a finding"
