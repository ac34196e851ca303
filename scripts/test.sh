#!/usr/bin/env bash
# Quick start, command 2 (and what CI runs via .ci/run): install what is missing, build everything
# with warnings as errors, run the whole test suite (unit tests, conformance pack, tokenizer
# vectors, stories260K end to end, the token-loop allocation check and 60 s of GGUF fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The OpenAI SDK for the black-box server tests (pinned in tests/api/sdk/package-lock.json).
if [ ! -d tests/api/sdk/node_modules/openai ]; then
  (cd tests/api/sdk && npm ci --no-audit --no-fund --loglevel=error)
fi
cmake --preset release -DMINIMA_WERROR=ON >/dev/null
cmake --build --preset release -j2
ctest --preset release -j2 --timeout 1200 "$@"
