#!/bin/bash
# Regenerates the figures of docs/scaling.md (the FireCaffe paper's scaling, predicted by
# `fcc simulate`) and prints its tables. Compile-time costs only: no training, no GPU, ~10 s.
#
# usage: bench/scaling_paper.sh [FCC]      (FCC: the fcc binary; default build/bin/fcc)
# Writes docs/scaling_*.svg; the tables go to stdout (paste them into docs/scaling.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FCC="$(realpath "${1:-$ROOT/build/bin/fcc}")"
DOCS="$ROOT/docs"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
cd "$W"

# The paper's models at ImageNet resolution, in training form (random weights; only shapes matter).
/usr/bin/python3 "$ROOT/examples/export_nin.py" --model nin nin.onnx 2>/dev/null
/usr/bin/python3 "$ROOT/examples/export_nin.py" --model googlenet googlenet.onnx 2>/dev/null
# A recipe needs data files to exist; two dummy samples are enough for a simulation.
/usr/bin/python3 -c "import numpy as np; np.save('x.npy', np.zeros((2, 3, 224, 224), np.float32)); np.save('y.npy', np.zeros(2, np.int64))"
cat > r.toml <<'EOF'
[model]
path = "nin.onnx"
[data]
format = "npy"
train_x = "x.npy"
train_y = "y.npy"
[train]
batch_size = 1024
[optimizer]
name = "sgd"
lr = 0.04
momentum = 0.9
[distributed]
sync_batchnorm = false
EOF

P2=1,2,4,8,16,32,64,128
P2K=1,2,4,8,16,32,64,128,256,512,1024
run() { echo; echo "\$ fcc simulate $*"; "$FCC" simulate "$@" --recipe r.toml; }

echo "== 1. The paper's setting: K20X, Cray Gemini, global batch 1024 (and 256), 1..128 GPUs"
run nin.onnx --device k20x --interconnect cray_gemini --workers $P2 --batch 256,1024 --baseline-batch 256 \
  --title "NiN, K20X, Cray Gemini" --mark "128:39:FireCaffe NiN, 128 GPUs" \
  --svg "$DOCS/scaling_nin_gemini.svg" --svg-comm "$DOCS/scaling_nin_comm_gemini.svg"
run googlenet.onnx --device k20x --interconnect cray_gemini --workers $P2 --batch 1024 --baseline-batch 32 \
  --title "GoogLeNet, K20X, Cray Gemini" --mark "128:47:FireCaffe GoogLeNet, 128 GPUs" \
  --svg "$DOCS/scaling_googlenet_gemini.svg" --svg-comm "$DOCS/scaling_googlenet_comm_gemini.svg"

echo; echo "== 2. The same on InfiniBand FDR"
run nin.onnx --device k20x --interconnect infiniband_fdr --workers $P2 --batch 1024 --baseline-batch 256
run googlenet.onnx --device k20x --interconnect infiniband_fdr --workers $P2 --batch 1024 --baseline-batch 32

echo; echo "== 3. Sensitivity: an effective 3.5 GB/s per hop (28 Gb/s; PCIe staging of K20X-era MPI)"
run nin.onnx --device k20x --workers $P2 --batch 1024 --baseline-batch 256 \
  --set 'distributed.interconnect={ alpha_us = 1.5, bandwidth_gbps = 28 }'
run googlenet.onnx --device k20x --workers $P2 --batch 1024 --baseline-batch 32 \
  --set 'distributed.interconnect={ alpha_us = 1.5, bandwidth_gbps = 28 }'

echo; echo "== 4. Beyond FireCaffe: buckets + overlap, ring/halving-doubling, 4 GPUs per host (shm), up to 1024 workers"
run nin.onnx --device k20x --interconnect infiniband_fdr --ranks-per-host 4 --workers $P2K --batch 1024,8192 \
  --title "NiN, K20X, InfiniBand FDR, 4 per host" \
  --svg "$DOCS/scaling_nin_1024.svg" --svg-comm "$DOCS/scaling_nin_comm_1024.svg"
run googlenet.onnx --device k20x --interconnect infiniband_fdr --ranks-per-host 4 --workers $P2K --batch 1024,8192 \
  --title "GoogLeNet, K20X, InfiniBand FDR, 4 per host" \
  --svg "$DOCS/scaling_googlenet_1024.svg" --svg-comm "$DOCS/scaling_googlenet_comm_1024.svg"
