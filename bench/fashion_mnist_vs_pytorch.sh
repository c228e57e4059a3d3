#!/usr/bin/env bash
# Side-by-side training on the Fashion-MNIST recipe: fcrun and PyTorch (Debian's torch, same model,
# data, batch, optimizer, schedule, threads), one after the other on this machine.
# usage: bench/fashion_mnist_vs_pytorch.sh [STEPS|full] [THREADS]
#   STEPS=full trains the whole recipe (6 epochs) with its evaluations; both report test accuracy.
#   PIN_CPUS=1 (optional) runs both under `taskset -c 1` so other work can use the remaining core.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STEPS="${1:-300}"
THREADS="${2:-2}"
EX="$ROOT/examples/fashion_mnist"
PIN=()
[[ -n "${PIN_CPUS:-}" ]] && PIN=(taskset -c "$PIN_CPUS")
[[ -f "$EX/fashion_cnn.onnx" ]] || /usr/bin/python3 "$ROOT/examples/export_model.py" fashion_cnn "$EX/fashion_cnn.onnx" --train 2>/dev/null
cd "$EX"
FC_ARGS=(--threads "$THREADS" --set checkpoint.every_steps=0 --set 'output.model="out/bench.onnx"'
         --set 'output.metrics="out/bench_metrics.jsonl"')
TORCH_ARGS=(--threads "$THREADS")
if [[ "$STEPS" != full ]]; then
  FC_ARGS+=(--set train.steps="$STEPS" --set train.log_every=1000000 --set train.eval_every="$STEPS")
  TORCH_ARGS+=(--steps "$STEPS")
fi
start=$(date +%s.%N)
"${PIN[@]}" /usr/bin/time -f "fcrun peak RSS %M KiB" "$ROOT/build/bin/fcrun" train.toml "${FC_ARGS[@]}" 2>&1 | tr '\r' '\n' | grep -E 'eval|RSS|error' | tail -8
end=$(date +%s.%N)
echo "fcrun: ${STEPS} steps in $(python3 -c "print(round($end - $start, 1))") s wall (including start-up and evaluations)"
"${PIN[@]}" /usr/bin/time -f "pytorch peak RSS %M KiB" /usr/bin/python3 "$ROOT/bench/torch_train_recipe.py" train.toml "${TORCH_ARGS[@]}"
