#!/bin/bash
# Training throughput of two fcrun builds on one recipe, interleaved: each runs N and N + 100 steps,
# the 100 extra steps' time is the figure (start-up and the final evaluation cancel out).
#   bench/fcrun_ab.sh OLD_BIN NEW_BIN RECIPE.toml [REPEATS=3] [THREADS=1] [N=30]
# Prints one line per run ("repeat build steps seconds") and the median images/s of each build.
set -euo pipefail
old=$1 new=$2 recipe=$3 repeats=${4:-3} threads=${5:-1} n=${6:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
batch=$(sed -n 's/^batch_size *= *\([0-9]*\).*/\1/p' "$recipe" | head -1)
declare -A rates
for rep in $(seq "$repeats"); do
  for build in old new; do
    bin=$old; [[ $build == new ]] && bin=$new
    declare -A t
    for steps in "$n" $((n + 100)); do
      t0=$(date +%s.%N)
      "$bin/fcrun" "$recipe" --set train.steps="$steps" --set runtime.threads="$threads" \
        --set train.eval_every=1000000000 --set output.model="$work/$build/m.onnx" \
        --set output.metrics="$work/$build/m.jsonl" --set checkpoint.dir="$work/$build/ck" > /dev/null
      t[$steps]=$(echo "$(date +%s.%N) - $t0" | bc)
      echo "$rep $build $steps ${t[$steps]}"
    done
    rates[$build]+="$(echo "100 * $batch / (${t[$((n + 100))]} - ${t[$n]})" | bc -l) "
  done
done
for build in old new; do
  echo "$build median img/s: $(printf '%s\n' ${rates[$build]} | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')"
done
