#!/usr/bin/env bash
# Side-by-side training throughput on the Fashion-MNIST recipe: fcrun and PyTorch (Debian's torch,
# same model, data, batch, optimizer, schedule, threads), one after the other on this machine.
# usage: bench/fashion_mnist_vs_pytorch.sh [STEPS] [THREADS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STEPS="${1:-300}"
THREADS="${2:-2}"
EX="$ROOT/examples/fashion_mnist"
[[ -f "$EX/fashion_cnn.onnx" ]] || /usr/bin/python3 "$ROOT/examples/export_model.py" fashion_cnn "$EX/fashion_cnn.onnx" --train 2>/dev/null
cd "$EX"
start=$(date +%s.%N)
"$ROOT/build/bin/fcrun" train.toml --threads "$THREADS" --set train.steps="$STEPS" --set train.log_every=1000000 \
  --set train.eval_every="$STEPS" --set checkpoint.every_steps=0 --set 'output.model="out/bench.onnx"' \
  --set 'output.metrics="out/bench_metrics.jsonl"' | tail -1
end=$(date +%s.%N)
echo "fcrun: $STEPS steps in $(python3 -c "print(round($end - $start, 1))") s wall (including start-up and one evaluation)"
/usr/bin/python3 "$ROOT/bench/torch_train_recipe.py" train.toml --threads "$THREADS" --steps "$STEPS"
