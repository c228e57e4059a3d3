#!/usr/bin/env bash
# Installs ONNX's backend node tests (they ship inside PyPI's onnx wheel, onnx/backend/test/data/node)
# into a venv under the build folder, once; prints the node folder. Usage: setup_node_tests.sh BUILD_DIR
# The wheel is pinned here, and only its data is used (no dependencies, nothing imported): the
# expectations file beside this script is for exactly this version.
set -euo pipefail
ONNX_VERSION=1.16.2
VENV="$1/onnx-node-tests"
find_node_dir() { ls -d "$VENV"/lib/python3*/site-packages/onnx/backend/test/data/node 2>/dev/null | head -1; }
if [[ ! -f "$VENV/installed-$ONNX_VERSION" || -z "$(find_node_dir)" ]]; then
  rm -rf "$VENV"
  /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "onnx==$ONNX_VERSION"
  touch "$VENV/installed-$ONNX_VERSION"
fi
find_node_dir
