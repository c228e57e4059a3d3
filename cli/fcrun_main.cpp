// fcrun: the runtime driver.
//   fcrun infer MODEL --input [NAME=]FILE.npy ... --output FILE.npy [--output-name NAME] [--threads N]
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "ir/error.h"
#include "ir/verifier.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/npy.h"

namespace {

using namespace fc;

void print_help() {
  std::cout << "fcrun: run compiled models\n\n"
               "usage:\n"
               "  fcrun infer MODEL.onnx --input [NAME=]FILE.npy [--input ...] --output FILE.npy\n"
               "              [--output-name NAME] [--threads N]\n"
               "    Runs inference on the CPU. NAME may be omitted when the model has one data input.\n"
               "    The output is the model's first output unless --output-name names another.\n";
}

int cmd_infer(const std::vector<std::string>& argv) {
  cli::Args args(argv, {"--input", "--output", "--output-name", "--threads"}, {}, "fcrun infer");
  FC_CHECK(args.positionals().size() == 1, "fcrun infer: expected one MODEL argument");
  FC_CHECK(args.has("--output"), "fcrun infer: --output FILE.npy is required");
  const std::string model_path = args.positionals()[0];
  ir::Graph g = cli::load_model(model_path);
  ir::verify(g);

  std::map<std::string, ir::Tensor> feeds;
  for (const std::string& spec : args.all("--input")) {
    std::string name, file = spec;
    if (auto eq = spec.find('='); eq != std::string::npos) {
      name = spec.substr(0, eq);
      file = spec.substr(eq + 1);
    } else {
      FC_CHECK(g.inputs.size() == 1, "fcrun infer: the model has ", g.inputs.size(),
               " inputs; name each one: --input NAME=FILE.npy");
      name = g.inputs[0]->name;
    }
    FC_CHECK(g.find_value(name) && !g.is_param(g.find_value(name)), "fcrun infer: '", name,
             "' is not an input of ", model_path);
    feeds[name] = runtime::load_npy(file);
  }

  const ir::Value* out = g.outputs.at(0);
  if (auto name = args.get("--output-name")) {
    out = nullptr;
    for (const ir::Value* o : g.outputs)
      if (o->name == *name) out = o;
    FC_CHECK(out, "fcrun infer: '", *name, "' is not an output of ", model_path);
  }
  int threads = args.get("--threads") ? cli::parse_int(*args.get("--threads"), "--threads") : 0;
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor ex(g, cpu);
  auto results = ex.run(feeds);
  runtime::save_npy(*args.get("--output"), results.at(out->name));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return fc::cli::guarded_main("fcrun", [&]() -> int {
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
    if (cmd == "infer") return cmd_infer(rest);
    fc::fail("unknown command '", cmd, "' (see fcrun --help)");
  });
}
