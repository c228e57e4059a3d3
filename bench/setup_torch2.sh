#!/usr/bin/env bash
# Creates, once, the venv with PyTorch 2.x from PyPI that the speed benchmarks compare against
# (bench/train_throughput.py's --torch-python default). Benchmarks only: no test needs it, and it is
# about 5 GB (PyPI's torch wheel carries its CUDA libraries). Debian's PyTorch 1.13 at /usr/bin/python3
# stays the correctness reference.
#
# usage: bench/setup_torch2.sh [VENV_DIR]      (default /work/venv-torch2, where the other scripts look)
#   PYTHON: the interpreter to create the venv with (default python3 on PATH; Debian's needs python3-venv)
# Prints the venv's interpreter path on stdout (pip's output goes to stderr), so that
#   PY="$(bench/setup_torch2.sh)"
# works; when the venv already imports everything, it installs nothing.
set -euo pipefail
VENV="${1:-/work/venv-torch2}"
PY="$VENV/bin/python"
# torchvision: examples/models.py builds the zoo models (squeezenet1_0, resnet18, googlenet) from it.
# onnx and onnxscript: the same venv is the PyTorch 2.x exporter of tests/fixtures/torch2 and of
# scripts/zoo_parity.sh, which need them; one venv serves both uses.
PACKAGES=(torch torchvision numpy onnx onnxscript)
MODULES="import torch, torchvision, numpy, onnx, onnxscript"

if [[ -e "$VENV" && ! -x "$PY" ]]; then
  echo "setup_torch2.sh: $VENV exists but has no $PY; remove it or name another folder" >&2
  exit 1
fi
if [[ -x "$PY" ]] && "$PY" -c "$MODULES" 2>/dev/null; then
  echo "$PY"
  exit 0
fi
if [[ ! -x "$PY" ]]; then
  BASE="${PYTHON:-python3}"
  if ! "$BASE" -m venv "$VENV" >&2; then
    echo "setup_torch2.sh: '$BASE -m venv $VENV' failed (Debian's python3 needs python3-venv; or set PYTHON)" >&2
    exit 1
  fi
fi
if ! "$PY" -c "import sys" 2>/dev/null; then
  echo "setup_torch2.sh: $PY does not run; remove $VENV and run this again" >&2
  exit 1
fi
if ! "$PY" -m pip install "${PACKAGES[@]}" >&2; then
  echo "setup_torch2.sh: pip install ${PACKAGES[*]} into $VENV failed (see pip's output above)" >&2
  exit 1
fi
if ! "$PY" -c "$MODULES" 2>/dev/null; then
  echo "setup_torch2.sh: $PY cannot import what was installed ($MODULES)" >&2
  exit 1
fi
echo "$PY"
