#!/usr/bin/env bash
# The ViT on Fashion-MNIST end to end: export (Debian's PyTorch, opset 17, training form), fcrun on 2
# ranks, then the same budget in PyTorch (reference.py), both test accuracies printed.
#   bash examples/vit_fashion/run.sh      (budget and hyperparameters: train.toml, read by both)
# REF_PYTHON and SKIP_REFERENCE=1 as examples/train_both.sh says.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
EX="$ROOT/examples/vit_fashion"
"$ROOT/scripts/setup.sh"
[[ -x "$ROOT/build/bin/fcrun" ]] || "$ROOT/scripts/build.sh" "$ROOT/build"
/usr/bin/python3 "$ROOT/examples/export_model.py" vit_fashion "$EX/vit.onnx" --train 2> >(grep -v Warning >&2)
exec "$ROOT/examples/train_both.sh" "$EX"
