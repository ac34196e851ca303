#!/usr/bin/env bash
# Installs what recipes/minima-mini-data.py reads, and nothing else: Debian 12 packages of public-domain or
# permissively licensed text (see recipes/LICENSES.md), and two npm packages into recipes/.npm (gitignored).
# Idempotent: what is already present is not fetched again.
# Runs as root on Debian 12; downloads only from Debian's apt repositories and the npm registry.
set -euo pipefail

npm_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.npm"

# Data packages the builder reads, plus the interpreters it and npm need. Debian 12 fixes their
# versions within the release; the builder depends only on their file formats.
debs=(python3 wordnet-base bible-kjv-text dict-jargon dict-devil dict-elements unicode-data)
command -v npm >/dev/null 2>&1 || debs+=(npm)

# npm packages: exact version and the registry's sha512 for it, checked after install so that a
# changed tarball cannot slip in under the same version number.
#   chinese-poetry: the classical poems (MIT); opencc-js: OpenCC's traditional->simplified tables (MIT, Apache-2.0).
npms=(
  "chinese-poetry 2.0.1 sha512-KtYARvV7CWNtax0na9+Jn6PlhGgSoid7PWyDzXI4KsCEm2odZcqEQyval5koaLygZnM/EQ3lfJ//25K8p3uHNg=="
  "opencc-js 1.4.2 sha512-EdcspgdROiCCZDM+jZR6Pa670xW+EW2QhctPBQ8gRjg6lrx4IHEl+2s+kt5izk/TkxVRgdWuFgaGkaEdIUfdaw=="
)

missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup-data: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup-data: Debian packages already installed"
fi

# Prints the integrity npm recorded for an installed package, or nothing if it is absent or another version.
installed() {
  python3 - "$npm_dir/node_modules/.package-lock.json" "$1" "$2" <<'PY'
import json, sys
try:
    entry = json.load(open(sys.argv[1]))["packages"][f"node_modules/{sys.argv[2]}"]
except (OSError, KeyError, ValueError):
    sys.exit(0)
print(entry.get("integrity", "") if entry.get("version") == sys.argv[3] else "")
PY
}

want=()
for spec in "${npms[@]}"; do
  read -r name version integrity <<<"$spec"
  [[ "$(installed "$name" "$version")" == "$integrity" ]] || want+=("$name@$version")
done
if ((${#want[@]})); then
  echo "setup-data: npm install ${want[*]} into $npm_dir (chinese-poetry is an 83 MB download)"
  mkdir -p "$npm_dir"
  # --ignore-scripts: these are data; no install script has any business running.
  npm install --prefix "$npm_dir" --no-audit --no-fund --ignore-scripts --save-exact "${want[@]}"
else
  echo "setup-data: npm packages already installed"
fi

for spec in "${npms[@]}"; do
  read -r name version integrity <<<"$spec"
  if [[ "$(installed "$name" "$version")" != "$integrity" ]]; then
    echo "setup-data: $name@$version missing or its integrity differs from the pinned sha512" >&2
    exit 1
  fi
done
echo "setup-data: done"
