// fcrun: the runtime driver.
//   fcrun PLAN.fcplan | RECIPE.toml [--resume] [--threads N] [--set section.key=value ...]
//   fcrun eval MODEL.onnx|PLAN.fcplan --recipe RECIPE.toml
//   fcrun infer MODEL --input [NAME=]FILE.npy ... --output FILE.npy [--output-name NAME] [--threads N]
#include <mpi.h>

#include <iostream>
#include <sstream>
#include <map>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "cli/fcrun_bench.h"
#include "cli/fcrun_infer.h"
#include "cli/launch.h"
#include "cli/training_driver.h"
#include "frontend/plan_io.h"
#include "frontend/shape_folding.h"
#include "support/error.h"
#include "ir/verifier.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/npy.h"

namespace {

using namespace fc;

void print_help() {
  std::cout << "fcrun: train and run compiled models\n\n"
               "usage:\n"
               "  fcrun [-n N] PLAN.fcplan [--resume] [--threads N] [--trace FILE.json] [--set section.key=value ...]\n"
               "  fcrun RECIPE.toml [--resume] [--threads N] [--set section.key=value ...]\n"
               "    Trains (a recipe is compiled first); -n N starts N data-parallel ranks through mpirun\n"
               "    (--hostfile FILE, --host H1,H2 and --mpirun-args \"...\" pass through to mpirun for\n"
               "    clusters; under mpirun/srun fcrun runs as one rank).\n"
               "    --trace writes Chrome trace events (Perfetto, chrome://tracing): per op forward/backward/\n"
               "    optimizer, each allreduce on the communication thread, each step's wait for data and each\n"
               "    batch the loader thread makes, evaluation; rank r > 0 writes FILE.rank<r>.json. --resume continues from the newest intact checkpoint in\n"
               "    [checkpoint] dir (checksums verified; a damaged one is reported and skipped) and ends\n"
               "    with the same weights as an uninterrupted run.\n"
               "  fcrun eval MODEL.onnx|PLAN.fcplan --recipe RECIPE.toml [--set ...]\n"
               "    Test loss and top-1 accuracy on the recipe's test set.\n"
               "  fcrun debug-step RECIPE.toml --dump DIR [--set ...]\n"
               "    Runs the recipe's steps and dumps losses, first-step gradients and final state as .npy.\n"
               "  fcrun bench allreduce [-n N] --algorithm A[,B..|all] --bytes B[,B..] [--iters K]\n"
               "                        [--interconnect NAME | --alpha-us A --bandwidth-gbps B]\n"
               "    One JSON line per algorithm and size: {\"algorithm\", \"ranks\", \"bytes\", \"seconds\",\n"
               "    \"busbw_gbps\"} (median seconds; bus bandwidth in 10^9 bits/s). Algorithms: tree, ring,\n"
               "    halving_doubling, ps, mpi (MPI_Allreduce), shm. Sizes: 4096, 4KiB, 64MiB, ...\n"
               "    With an interconnect (a preset or alpha-beta), also \"predicted_seconds\": the cost model's.\n"
               "  fcrun probe [-n N] [--max-bytes B] [--iters K]\n"
               "    Measures alpha and bandwidth between ranks 0 and 1; prints them as a recipe line.\n"
               "  fcrun infer MODEL.onnx --input [NAME=]FILE.npy [--input ...] --output FILE.npy\n"
               "              [--output-name NAME] [--threads N]\n"
               "    Runs inference on the CPU. NAME may be omitted when the model has one data input.\n"
               "    Tensor files are NumPy .npy, or ONNX TensorProto .pb (any element type, bfloat16 too);\n"
               "    a sequence input or output is an ONNX SequenceProto .pb file.\n"
               "    The output is the model's first output unless --output-name names another.\n";
}

int cmd_eval(const std::vector<std::string>& argv) {
  cli::Args args(argv, {"--recipe", "--set", "--threads"}, {}, "fcrun eval");
  FC_CHECK(args.positionals().size() == 1, "fcrun eval: expected one MODEL argument");
  FC_CHECK(args.has("--recipe"), "fcrun eval: --recipe RECIPE.toml is required (for the test data)");
  runtime::Recipe r = runtime::load_recipe(*args.get("--recipe"), args.all("--set"));
  const std::string model = args.positionals()[0];
  int threads = args.get("--threads") ? cli::parse_int(*args.get("--threads"), "--threads") : r.threads;
  runtime::EvalResult e = cli::evaluate_model(model, r, threads);
  std::printf("%s  (%lld samples)\n", e.text(6).c_str(), (long long)e.samples);
  return 0;
}

int cmd_train(const std::string& target, const std::vector<std::string>& argv) {
  cli::Args args(argv, {"--set", "--threads", "--trace"}, {"--resume"}, "fcrun");
  FC_CHECK(args.positionals().empty(), "fcrun: unexpected argument '",
           args.positionals().empty() ? "" : args.positionals()[0], "'");
  int threads = args.get("--threads") ? cli::parse_int(*args.get("--threads"), "--threads") : 0;
  cli::TrainingJob job = frontend::is_plan_file(target) ? cli::job_from_plan(target, args.all("--set"))
                                                        : cli::job_from_recipe(target, args.all("--set"));
  return cli::run_training(job, args.has("--resume"), threads, args.get("--trace").value_or(""));
}

// `-n N` (anywhere before the command's own flags): with N > 1 and no MPI launcher around us,
// re-execute under mpirun; `--hostfile FILE` and `--host H1,H2` (mpirun's own spellings) and
// `--mpirun-args "..."` pass options through for clusters. Returns the arguments without them.
std::vector<std::string> launch_if_asked(std::vector<std::string> args) {
  int ranks = 1;
  std::vector<std::string> mpirun_args, rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-n" && i + 1 < args.size()) {
      ranks = cli::parse_int(args[++i], "-n");
    } else if ((args[i] == "--hostfile" || args[i] == "--host" || args[i] == "-H") && i + 1 < args.size()) {
      mpirun_args.push_back(args[i]);
      mpirun_args.push_back(args[++i]);
    } else if (args[i] == "--mpirun-args" && i + 1 < args.size()) {
      std::istringstream ss(args[++i]);
      for (std::string w; ss >> w;) mpirun_args.push_back(w);
    } else {
      rest.push_back(args[i]);
    }
  }
  if (ranks > 1 && !cli::under_mpi_launcher()) cli::exec_under_mpirun(ranks, rest, mpirun_args);
  return rest;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> all_args(argv + 1, argv + argc);
  int rc = fc::cli::guarded_main("fcrun", [&]() -> int {
    std::vector<std::string> args = launch_if_asked(all_args);
    if (args.empty()) {
      print_help();
      return 2;
    }
    std::string cmd = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      print_help();
      return 0;
    }
    if (cmd == "infer") return cli::cmd_infer(rest);
    if (cmd == "bench") return cli::cmd_bench(rest);
    if (cmd == "probe") return cli::cmd_probe(rest);
    if (cmd == "eval") return cmd_eval(rest);
    if (cmd == "debug-step") {
      cli::Args a(rest, {"--set", "--dump", "--threads"}, {}, "fcrun debug-step");
      FC_CHECK(a.positionals().size() == 1 && a.has("--dump"), "fcrun debug-step: usage: fcrun debug-step RECIPE.toml --dump DIR");
      int threads = a.get("--threads") ? cli::parse_int(*a.get("--threads"), "--threads") : 0;
      return cli::debug_steps(a.positionals()[0], a.all("--set"), *a.get("--dump"), threads);
    }
    if (!cmd.empty() && cmd[0] != '-') return cmd_train(cmd, rest);
    fc::fail("unknown command '", cmd, "' (see fcrun --help)");
  });
  // A failed rank must end the whole job (the others may wait on it forever): abort, don't finalise.
  if (rc != 0 && fc::cli::under_mpi_launcher()) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) MPI_Abort(MPI_COMM_WORLD, rc);
  }
  return rc;
}
