#!/usr/bin/env bash
# Quick start, command 2 (and what CI runs via .ci/run): install what is missing, build everything
# with warnings as errors, run the whole test suite (unit tests, conformance pack, tokenizer
# vectors, chat templates, stories260K end to end, the token-loop allocation check, 60 s of GGUF
# fuzzing, the server's black-box tests with the OpenAI SDK), then the server load test once more
# against an AddressSanitizer + UBSan build.
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
# The server's black-box tests once more against `minima serve` built with ASan + UBSan (the load
# test: 64 streams, 300 requests, 20% hang up): any memory error, leak or undefined behaviour makes
# the server exit non-zero, which every test asserts against.
cmake --preset asan >/dev/null
cmake --build --preset asan -j2 --target minima
for t in load openai prefix structured tools; do
  echo "server $t test under AddressSanitizer + UBSan:"
  MINIMA_BIN="$PWD/build/asan/bin/minima" MINIMA_SHARED="$(cd .. && pwd)/shared" \
    node --test --test-reporter=spec "tests/api/sdk/$t.test.mjs"
done
