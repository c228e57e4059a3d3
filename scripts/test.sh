#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, runs every test through ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" "$ROOT/build"
cd "$ROOT/build"
ctest --output-on-failure -j2 --timeout 900
