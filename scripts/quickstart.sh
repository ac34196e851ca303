#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build the release binary, run the main job:
# `minima serve`, the OpenAI-compatible server, on 127.0.0.1:8080. minima ships no model of its own
# yet, so it serves the real 260K-parameter TinyStories model from ../shared (after a short greedy
# `minima generate` from it, which prints the reference story and proves the engine end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target minima
model=../shared/models/stories260K.gguf
if [ ! -f "$model" ]; then
  echo "quickstart: $model not found (clone the shared data beside the repository)" >&2
  exit 1
fi
./build/release/bin/minima generate --model "$model" --prompt "Once upon a time" -n 60 --temp 0 --stats
cat >&2 <<'MSG'

Starting `minima serve` on http://127.0.0.1:8080 (Ctrl-C stops it). From another shell:
  curl -s http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \
    -d '{"model":"stories260K","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":40}'
or any OpenAI SDK with base URL http://127.0.0.1:8080/v1.
MSG
exec ./build/release/bin/minima serve --model "$model" --port "${PORT:-8080}"
