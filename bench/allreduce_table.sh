#!/usr/bin/env bash
# Allreduce bus bandwidth table (issue 4): every algorithm vs MPI_Allreduce, 4 KiB to 256 MiB, on 2
# and 4 ranks of this machine, through `fcrun bench allreduce`. Prints a markdown table per rank
# count (Gb/s, nccl-tests bus bandwidth, median of ITERS) and each size's best-of-ours / mpi ratio.
# usage: bench/allreduce_table.sh [ITERS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ITERS="${1:-10}"
SIZES=4KiB,64KiB,1MiB,4MiB,16MiB,64MiB,256MiB
for RANKS in 2 4; do
  "$ROOT/build/bin/fcrun" bench allreduce -n "$RANKS" --algorithm all --bytes "$SIZES" --iters "$ITERS" |
    /usr/bin/python3 "$ROOT/bench/allreduce_table.py"
done
