#!/bin/bash
# The torchvision classification zoo: training parity of fcrun (SGD, momentum + weight decay) against
# PyTorch fp64 for every model x export (Debian's torch 1.13 at opsets 11/13/15/17, PyTorch 2.x's
# dynamo default); writes docs/zoo.md and exits non-zero if any row fails.
#   scripts/zoo_parity.sh --bin BUILD/bin [--models squeezenet1_1,resnet18] [--exports op13,dynamo]
#                         [--batch 4] [--steps 2] [--workdir DIR] [--results FILE] [--rerun] [--table-only]
# Rows already in the results JSON (default build/zoo/zoo_results.json) are skipped: rerun to resume.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
exec nice -n "${NICE:-10}" /usr/bin/python3 "$here/tests/parity/zoo_parity.py" "$@"
