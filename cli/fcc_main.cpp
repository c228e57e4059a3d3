// fcc: the compiler driver.
//   fcc inspect MODEL.onnx           inputs/outputs, parameters, FLOPs per sample, op histogram
//   fcc compile MODEL --emit ir      the IR in text form (MODEL: .onnx, or .ir text)
//   fcc ops                          the supported ops (also listed by --help)
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "ir/error.h"
#include "ir/op_registry.h"
#include "ir/text_format.h"
#include "ir/verifier.h"
#include "passes/graph_cost.h"

namespace {

using namespace fc;

std::string supported_ops_text() {
  std::string s;
  int col = 0;
  for (const ir::OpSchema* op : ir::OpRegistry::global().all()) {
    std::string name = op->domain.empty() ? op->name : op->domain + "." + op->name;
    if (col + name.size() + 1 > 96) {
      s += "\n";
      col = 0;
    }
    s += (col ? " " : "  ") + name;
    col += static_cast<int>(name.size()) + 1;
  }
  return s + "\n";
}

void print_help() {
  std::cout << "fcc: compile ONNX models into training plans\n\n"
               "usage:\n"
               "  fcc inspect MODEL.onnx             inputs, outputs, parameters, FLOPs per sample, op histogram\n"
               "  fcc compile MODEL --emit ir [-o F]  print the IR (MODEL: .onnx, or .ir text)\n"
               "  fcc ops                            list the supported ONNX ops\n\n"
               "supported ops (ONNX opsets 11-17):\n"
            << supported_ops_text();
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (b >= 1024 && u < 3) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", b, units[u]);
  return buf;
}

int cmd_inspect(const std::vector<std::string>& argv) {
  cli::Args args(argv, {"--batch"}, {}, "fcc inspect");
  FC_CHECK(args.positionals().size() == 1, "fcc inspect: expected one MODEL argument");
  ir::Graph g = cli::load_model(args.positionals()[0]);
  int batch = args.get("--batch") ? cli::parse_int(*args.get("--batch"), "--batch") : 1;
  std::cout << "model: " << args.positionals()[0] << "\n";
  std::cout << "inputs:\n";
  for (const ir::Value* v : g.inputs) std::cout << "  " << v->name << ": " << ir::to_string(v->type) << "\n";
  std::cout << "outputs:\n";
  for (const ir::Value* v : g.outputs) std::cout << "  " << v->name << ": " << ir::to_string(v->type) << "\n";
  size_t count = 0, bytes = 0;
  for (const ir::Value* p : g.param_order()) {
    count += g.param(p).numel();
    bytes += g.param(p).nbytes();
  }
  std::cout << "parameters: " << count << " in " << g.param_order().size() << " tensors (" << human_bytes(double(bytes))
            << ")\n";
  passes::GraphCost cost = passes::estimate_cost(g, batch);
  char buf[128];
  std::snprintf(buf, sizeof buf, "FLOPs per sample: %.4g (%.3f GFLOP), memory traffic per sample: %s\n",
                cost.flops / batch, cost.flops / batch / 1e9, human_bytes(cost.bytes / batch).c_str());
  std::cout << buf;
  std::map<std::string, int> hist;
  for (const auto& n : g.nodes()) ++hist[n->domain.empty() ? n->op : n->domain + "." + n->op];
  std::cout << "ops (" << g.nodes().size() << " nodes):\n";
  for (const auto& [op, k] : hist) std::cout << "  " << op << ": " << k << "\n";
  return 0;
}

int cmd_compile(const std::vector<std::string>& argv) {
  cli::Args args(argv, {"--emit", "-o", "--recipe"}, {}, "fcc compile");
  FC_CHECK(args.positionals().size() == 1, "fcc compile: expected one MODEL argument");
  std::string emit = args.get("--emit").value_or("");
  FC_CHECK(emit == "ir", "fcc compile: only `--emit ir` is available in this build (training plans come with "
                         "the training work)");
  ir::Graph g = cli::load_model(args.positionals()[0]);
  ir::verify(g);
  std::string text = ir::print_graph(g);
  if (auto out = args.get("-o")) {
    std::ofstream f(*out);
    FC_CHECK(f, *out, ": cannot write file");
    f << text;
    FC_CHECK(f.good(), *out, ": write failed");
  } else {
    std::cout << text;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return fc::cli::guarded_main("fcc", [&]() -> int {
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
    if (cmd == "ops") {
      std::cout << supported_ops_text();
      return 0;
    }
    if (cmd == "inspect") return cmd_inspect(rest);
    if (cmd == "compile") return cmd_compile(rest);
    fc::fail("unknown command '", cmd, "' (see fcc --help)");
  });
}
