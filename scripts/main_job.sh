#!/usr/bin/env bash
# The main job (foundation stage): export torchvision's ResNet-18 to ONNX, run it with
# `fcrun infer`, and compare with PyTorch's own output for the same batch.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" "$ROOT/build"
OUT="$ROOT/out/main_job"
mkdir -p "$OUT"
MODEL="${MODEL:-resnet18}"
/usr/bin/python3 "$ROOT/examples/export_model.py" "$MODEL" "$OUT/$MODEL.onnx" --batch 4 \
  --input "$OUT/input.npy" --reference "$OUT/torch_output.npy"
"$ROOT/build/bin/fcc" inspect "$OUT/$MODEL.onnx"
time "$ROOT/build/bin/fcrun" infer "$OUT/$MODEL.onnx" --input "input=$OUT/input.npy" --output "$OUT/fcrun_output.npy"
/usr/bin/python3 - "$OUT" <<'PY'
import sys, numpy as np
out = sys.argv[1]
ours, ref = np.load(f"{out}/fcrun_output.npy"), np.load(f"{out}/torch_output.npy")
rel = np.linalg.norm(ours - ref) / np.linalg.norm(ref)
print(f"fcrun vs PyTorch: output {ours.shape}, relative difference {rel:.2e}, "
      f"same top-1 for {int((ours.argmax(1) == ref.argmax(1)).sum())}/{len(ref)} samples")
sys.exit(0 if rel < 1e-4 else 1)
PY
