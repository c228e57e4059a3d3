#!/usr/bin/env bash
# The main job: train the 2-conv CNN on Fashion-MNIST (Debian's dataset-fashion-mnist) with fcrun,
# from a model exported by PyTorch, and evaluate the trained ONNX model it writes.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" "$ROOT/build"
EX="$ROOT/examples/fashion_mnist"
/usr/bin/python3 "$ROOT/examples/export_model.py" fashion_cnn "$EX/fashion_cnn.onnx" --train 2>/dev/null
cd "$EX"
mkdir -p out
"$ROOT/build/bin/fcc" compile fashion_cnn.onnx --recipe train.toml -o out/fashion_cnn.fcplan
"$ROOT/build/bin/fcc" inspect out/fashion_cnn.fcplan
time "$ROOT/build/bin/fcrun" out/fashion_cnn.fcplan "$@"
"$ROOT/build/bin/fcrun" eval out/fashion_cnn_trained.onnx --recipe train.toml
