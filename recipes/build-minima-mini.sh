#!/usr/bin/env bash
# Builds minima-mini from nothing but Debian/npm packages: the corpus (recipes/minima-mini-data.py),
# the tokenizer, the token shards, then the model (recipes/minima-mini.toml). Every step is seeded,
# so a second run gives the same files and the same loss curve on the same machine (thread count
# and kernel set included: MINIMA_CPU=avx512 with BF16 matmuls on the machine of the model card).
# Run from anywhere; writes data/minima-mini/ and models/minima-mini.gguf in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bash recipes/setup-data.sh
[ -x build/release/bin/minima ] || { cmake --preset release >/dev/null && cmake --build --preset release -j2 --target minima; }
B=build/release/bin/minima
D=data/minima-mini
/usr/bin/python3 recipes/minima-mini-data.py --out "$D/corpus" --seed 1
"$B" tokenizer-train --corpus "$D"/corpus/*.jsonl --vocab 8192 --out "$D/tokenizer.gguf"
"$B" data prepare --tokenizer "$D/tokenizer.gguf" --input "$D"/corpus/*.jsonl --out "$D/shards" \
  --eval-fraction 0.01 --seed 1
"$B" train --config recipes/minima-mini.toml "$@"
