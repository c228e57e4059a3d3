#!/usr/bin/env bash
# Sanitizer runs (issue 22). Usage: scripts/sanitize.sh [asan|tsan]...   (default: both)
#  asan: everything built with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) into build-asan/;
#        runs the unit tests, the allreduce tests on 1 and 2 ranks and a short training run of an
#        MLP (fcrun -n 1 and -n 2: evaluation, checkpoints, --resume, trained-model export).
#  tsan: ThreadSanitizer (clang) into build-tsan/ over what runs beside the training thread: the
#        communication thread (allreduce tests on 2 and 3 ranks) and, in a 2-rank training run, the
#        heartbeat and the batch prefetcher.
# Any report fails the run (halt_on_error, no recovery); suppressions are in scripts/sanitize/*.supp,
# each with its reason. Takes long on two cores: a full build per sanitizer.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODES=("${@}")
((${#MODES[@]})) || MODES=(asan tsan)
export FC_KERNEL_CACHE="$(mktemp -d)"
trap 'rm -rf "$FC_KERNEL_CACHE"' EXIT
MPIRUN=(mpirun --allow-run-as-root --oversubscribe)

configure() {  # build folder, C compiler, C++ compiler, sanitizers
  if [[ ! -f "$1/build.ninja" ]]; then
    # FC_WERROR off: the sanitizers change what the compiler can prove (new maybe-uninitialized
    # warnings); the normal build is where warnings are held at zero.
    cmake -S "$ROOT" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFC_WERROR=OFF \
      -DFC_SANITIZE="$4" -DCMAKE_C_COMPILER="$2" -DCMAKE_CXX_COMPILER="$3"
  fi
}

# A short training run of the MLP fixture (8 features, 4 classes) on random data, in $1/train-run.
train_run() {  # build folder, ranks
  local w="$1/train-run" fcrun="$1/bin/fcrun"
  rm -rf "$w" && mkdir -p "$w"
  cp "$ROOT/tests/fuzz/corpus/onnx/mlp.onnx" "$w/"
  /usr/bin/python3 - "$w" <<'PY'
import sys, numpy as np
g = np.random.default_rng(0)
for split, n in (("train", 96), ("test", 32)):
    np.save(f"{sys.argv[1]}/{split}_x.npy", g.random((n, 8), dtype=np.float32))
    np.save(f"{sys.argv[1]}/{split}_y.npy", g.integers(0, 4, n).astype(np.int64))
PY
  # threads = 1: OpenMP's runtime (libgomp) is not instrumented, so TSan cannot see its barriers and
  # would report every parallel kernel; the threads under test here are our own.
  cat > "$w/r.toml" <<'TOML'
[model]
path = "mlp.onnx"
[data]
format = "npy"
train_x = "train_x.npy"
train_y = "train_y.npy"
test_x = "test_x.npy"
test_y = "test_y.npy"
[train]
batch_size = 16
steps = 24
seed = 3
eval_every = 8
log_every = 8
[optimizer]
name = "sgd"
lr = 0.05
momentum = 0.9
[runtime]
threads = 1
[checkpoint]
dir = "ckpt"
every_steps = 8
keep = 2
[output]
model = "trained.onnx"
TOML
  (cd "$w" && "$fcrun" -n "$2" r.toml && test -s trained.onnx)
  # Resume from the step-16 checkpoint: the reading side of checkpoints runs too.
  rm "$w/ckpt/step-00000024.fcckpt" "$w/trained.onnx"
  (cd "$w" && "$fcrun" -n "$2" r.toml --resume && test -s trained.onnx)
  echo "sanitize.sh: training run on $2 rank(s) clean"
}

for mode in "${MODES[@]}"; do
  case "$mode" in
    asan)
      B="$ROOT/build-asan"
      configure "$B" gcc g++ address,undefined
      cmake --build "$B" --target fc_unit_tests fc_distrib_cost_model_tests fc_distrib_allreduce_tests fcc fcrun
      # Full unwinding (fast_unwind_on_malloc=0) and OpenMPI's plugins kept loaded: OpenMPI is built
      # without frame pointers and unloads its plugins at MPI_Finalize, and without both a leak's
      # stack stops at its first frame (attributed to whatever library now sits at that address), so
      # lsan.supp could not recognise OpenMPI's own allocations.
      export OMPI_MCA_mca_base_component_disable_dlclose=1
      export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
      export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0"
      export LSAN_OPTIONS="suppressions=$ROOT/scripts/sanitize/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0"
      export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
      (cd "$B" && FC_BIN_DIR="$B/bin" bin/fc_unit_tests --gtest_brief=1)
      "$B/bin/fc_distrib_cost_model_tests" --gtest_brief=1
      "$B/bin/fc_distrib_allreduce_tests"
      "${MPIRUN[@]}" -n 2 "$B/bin/fc_distrib_allreduce_tests"
      train_run "$B" 1
      train_run "$B" 2
      unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
      ;;
    tsan)
      B="$ROOT/build-tsan"
      configure "$B" clang-14 clang++-14 thread
      cmake --build "$B" --target fc_distrib_allreduce_tests fcc fcrun
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/scripts/sanitize/tsan.supp"
      "${MPIRUN[@]}" -n 2 "$B/bin/fc_distrib_allreduce_tests"
      "${MPIRUN[@]}" -n 3 "$B/bin/fc_distrib_allreduce_tests"
      train_run "$B" 2
      unset TSAN_OPTIONS
      ;;
    *) echo "sanitize.sh: unknown mode '$mode' (asan or tsan)" >&2; exit 2 ;;
  esac
  echo "sanitize.sh: $mode clean"
done
