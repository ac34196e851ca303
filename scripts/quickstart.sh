#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build the release binary, run the main job.
# Until minima ships its own model and server, the main job is `minima generate` on the real
# stories260K model from ../shared (greedy, so the text is the reference text).
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
./build/release/bin/minima generate --model "$model" --prompt "Once upon a time" -n 200 --temp 0 --stats
