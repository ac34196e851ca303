#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build the release binary, run the main job:
# `minima serve`, the OpenAI-compatible server, on 127.0.0.1:8080 with minima's built-in model
# minima-mini (models/minima-mini.gguf, trained by minima itself: models/minima-mini.md), after
# one question to it with `minima run` that proves the engine end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target minima
./build/release/bin/minima run --prompt "What is the opposite of \"happy\"?" -n 60 --temp 0
cat >&2 <<'MSG'

Starting `minima serve` with the built-in model minima-mini on http://127.0.0.1:8080 (Ctrl-C stops
it). From another shell:
  curl -s http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \
    -d '{"model":"minima-mini","messages":[{"role":"user","content":"What is the atomic number of gold?"}]}'
or any OpenAI SDK with base URL http://127.0.0.1:8080/v1; `minima run` chats in the terminal.
MSG
exec ./build/release/bin/minima serve --port "${PORT:-8080}"
