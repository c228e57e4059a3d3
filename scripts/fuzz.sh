#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/, clang with ASan + UBSan) into build-fuzz/ and runs each
# for SECONDS (default 30) from its committed seed corpus, one after another.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      (targets: onnx text_ir recipe npy idx plan checkpoint tokens)
# Inputs that reach new code are kept in build-fuzz/corpus/<target>/ (not committed), so a second run
# goes on where the first stopped. A crash, hang (> 10 s per input), leak or memory blow-up (> 2 GiB)
# stops that target, leaves its input as build-fuzz/artifacts/<target>/crash-* (or timeout-, leak-,
# oom-) and makes the script exit 1 after the others have run; reproduce it with
#   build-fuzz/bin/fuzz_<target> build-fuzz/artifacts/<target>/crash-...
# and, once fixed, copy the input to tests/fuzz/regressions/<target>/ (replayed by ctest).
# FC_FUZZ_RUNS=N makes a run reproducible, as the test suite needs: N inputs per target from seed
# FC_FUZZ_SEED (default 1), SECONDS only a cap. A timed run explores anew each time, and a crash it
# finds is a bug to fix, not a reason for CI to fail on one machine and pass on the next.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_EACH="${1:-30}"
shift || true
BUILD="$ROOT/build-fuzz"
ALL=(onnx text_ir recipe npy idx plan checkpoint tokens)
[[ $# -gt 0 ]] && TARGETS=("$@") || TARGETS=("${ALL[@]}")

if [[ ! -f "$BUILD/build.ninja" ]]; then
  # Warnings are the normal (g++) build's business; clang has its own set, and failing on them here
  # would only stop the fuzzing.
  CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFC_FUZZ=ON -DFC_WERROR=OFF
fi
cmake --build "$BUILD" --target "${TARGETS[@]/#/fuzz_}"

bound=()
[[ -n "${FC_FUZZ_RUNS:-}" ]] && bound=(-runs="$FC_FUZZ_RUNS" -seed="${FC_FUZZ_SEED:-1}")
failed=()
for t in "${TARGETS[@]}"; do
  # A reproducible run starts from the committed seeds alone, not from what earlier runs kept.
  corpus="$BUILD/corpus/$t"
  if ((${#bound[@]})); then corpus="$BUILD/corpus-reproducible/$t"; rm -rf "$corpus"; fi
  mkdir -p "$corpus" "$BUILD/artifacts/$t"
  log="$BUILD/artifacts/$t/fuzz.log"
  # Past crashes are seeds too: they are replayed under the sanitizers first.
  regressions=()
  [[ -d "$ROOT/tests/fuzz/regressions/$t" ]] && regressions=("$ROOT/tests/fuzz/regressions/$t")
  echo "fuzz.sh: $t for ${SECONDS_EACH}s"
  if "$BUILD/bin/fuzz_$t" "${bound[@]}" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$BUILD/artifacts/$t/" "$corpus" "$ROOT/tests/fuzz/corpus/$t" "${regressions[@]}" > "$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz.sh: $t clean, $runs runs (at most ${SECONDS_EACH}s), corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz.sh: $t FAILED:"
    grep -m1 -E "^==[0-9]+==ERROR|runtime error|terminate called|deadly signal|Timeout|out-of-memory" "$log" || true
    grep -E "^(Test unit written|artifact_prefix)" "$log" | tail -2
    echo "fuzz.sh: full output in $log"
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
echo "fuzz.sh: all ${#TARGETS[@]} targets clean"
