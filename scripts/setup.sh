#!/usr/bin/env bash
# Installs the Debian 12 packages minima needs to build and test. Idempotent: packages already
# present are skipped, so a second run does nothing (and needs no network).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev          # libFuzzer target for the GGUF parser
  clang-format
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcpp-httplib-dev
  libpcre2-dev                      # BPE pre-tokenizer regexes (Unicode classes)
  libicu-dev                        # Unicode normalization / categories for tokenizers
  libtomlplusplus-dev               # training recipes (minima train --config recipe.toml)
  python3 python3-numpy             # conformance/check_rule.py (the pack's own rule checker)
  python3-torch                     # tests/train/torch_reference.py (one training step in PyTorch)
  python3-jsonschema                # tests/runtime/validate_json.py (the structured-output property test)
  time                              # peak RSS in bench/compare_llama.py
)

missing=()
# Node.js runs the OpenAI-SDK server tests; any distribution of it will do (Debian's, or one
# already installed from elsewhere), so it is only added when `node` is absent.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs npm); fi
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
