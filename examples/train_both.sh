#!/usr/bin/env bash
# What the transformer examples' run.sh scripts end with: in the example folder EX (prepared: model
# and data in place), train EX/train.toml with fcrun on 2 ranks, then the same recipe in PyTorch
# (EX/reference.py --fcrun-metrics), with the wall time of each; exits with the reference's status.
#   examples/train_both.sh EX
# REF_PYTHON: the reference's interpreter; default the PyTorch 2.x venv /work/venv-torch2 (made as
# tests/fixtures/torch2/export_fixtures.py says) when it exists, else Debian's /usr/bin/python3
# (PyTorch 1.13 on generic BLAS: several times slower). SKIP_REFERENCE=1: fcrun only.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EX="$(cd "$1" && pwd)"
if [[ -z "${REF_PYTHON:-}" ]]; then
  REF_PYTHON=/usr/bin/python3
  [[ -x /work/venv-torch2/bin/python3 ]] && REF_PYTHON=/work/venv-torch2/bin/python3
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "$EX"
rm -rf out && mkdir -p out
start=$(date +%s)
"$ROOT/build/bin/fcrun" -n 2 train.toml
mid=$(date +%s)
echo "fcrun: $((mid - start)) s wall (2 ranks, 1 thread each)"
[[ "${SKIP_REFERENCE:-0}" == 1 ]] && exit 0
rc=0
"$REF_PYTHON" "$EX/reference.py" --recipe train.toml --fcrun-metrics out/metrics.jsonl --out out/reference.json || rc=$?
echo "PyTorch ($REF_PYTHON): $(($(date +%s) - mid)) s wall; both: $(($(date +%s) - start)) s"
exit "$rc"
