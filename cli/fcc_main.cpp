// fcc: the compiler driver.
//   fcc inspect MODEL.onnx|PLAN      inputs/outputs, parameters, FLOPs, memory, op histogram
//   fcc compile MODEL.onnx --recipe R.toml -o M.fcplan   a training plan
//   fcc compile MODEL --emit ir      the IR in text form (MODEL: .onnx, or .ir text); with --recipe
//                                    the training graph
//   fcc simulate MODEL.onnx --recipe R.toml   predicted scaling over workers (cli/fcc_simulate.h)
//   fcc ops                          the supported ops (also listed by --help)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <vector>

#include "cli/bucketing_model.h"
#include "cli/cli_common.h"
#include "cli/fcc_simulate.h"
#include "cli/training_config.h"
#include "cli/training_driver.h"
#include "frontend/onnx_import.h"
#include "frontend/plan_io.h"
#include "support/error.h"
#include "ir/op_registry.h"
#include "ir/text_format.h"
#include "ir/verifier.h"
#include "passes/graph_cost.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "runtime/memory_plan.h"

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
  s += "\n  read by rewriting them at import into the ops above:";
  for (const std::string& op : frontend::ops_rewritten_at_import()) s += " " + op;
  return s + "\n";
}

void print_help() {
  std::cout << "fcc: compile ONNX models into training plans\n\n"
               "usage:\n"
               "  fcc inspect MODEL.onnx|PLAN.fcplan [--batch B]\n"
               "                                     inputs, outputs, parameters, FLOPs, planned memory, op histogram\n"
               "  fcc compile MODEL.onnx --recipe R.toml -o M.fcplan [--set section.key=value ...]\n"
               "                                     compile a self-contained training plan\n"
               "  fcc compile MODEL.onnx --recipe R.toml --explain [-o M.fcplan]\n"
               "                                     print the gradient allreduce buckets: tensors, bytes,\n"
               "                                     algorithm, predicted communication and exposed time,\n"
               "                                     and the predicted step with and without overlap\n"
               "  fcc compile MODEL [--recipe R.toml] --emit ir [-o F]\n"
               "                                     print the IR (MODEL: .onnx or .ir text); with a recipe, the\n"
               "                                     training step (forward, gradients, optimizer update)\n"
               "  fcc compile MODEL --recipe R.toml --list-passes\n"
               "                                     the training pipeline's passes, in order\n"
               "  fcc compile MODEL --recipe R.toml [--print-after PASS|all] [--stop-after PASS [--emit ir]]\n"
               "                                     print the IR after a pass (or every pass); stop the pipeline\n"
               "                                     after a pass (no plan is written). The graph is verified after\n"
               "                                     every pass (--verify-each, the default)\n"
            << fc::cli::simulate_help()
            << "  fcc ops                            list the supported ONNX ops\n\n"
            << "supported ops (ONNX opsets " << fc::ir::kOldestOnnxOpset << "-" << fc::ir::kNewestOnnxOpset
            << "; an op from the first opset that has it):\n"
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

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  FC_CHECK(f, path, ": cannot write file");
  f << text;
  FC_CHECK(f.good(), path, ": write failed");
}


// The step memory plan fcrun's executor makes for a step of `batch` rows (Executor::plan_memory_for:
// the same kernels, liveness and placement as a run), on zero-filled inputs, one thread. When a
// size depends on values the step computes, fcrun plans after its first step: so does this, after
// one step on the zeros.
runtime::MemoryPlan executor_memory_plan(const ir::Graph& g, int64_t batch) {
  std::map<std::string, ir::Tensor> feeds;
  for (const ir::Value* in : g.inputs) {
    std::vector<int64_t> dims;
    for (const ir::Dim& d : in->type.dims) dims.push_back(d.is_known() ? d.size : batch);
    feeds[in->name] = ir::Tensor(in->type.dtype, dims);
  }
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  if (std::optional<runtime::MemoryPlan> plan = ex.plan_memory_for(feeds)) return *plan;
  ex.run(feeds);
  const std::optional<runtime::MemoryPlan> plan = ex.planned_memory();
  FC_CHECK(plan, "fcc inspect: no step memory plan after a step at batch ", batch);
  return *plan;
}

int inspect_plan(const std::string& path, const cli::Args& args) {
  cli::TrainingJob job = cli::job_from_plan(path, {});
  const ir::Graph& g = job.train;
  const int64_t batch =
      args.get("--batch") ? cli::parse_int(*args.get("--batch"), "--batch") : job.recipe.batch_size;
  std::cout << "plan: " << path << "\n"
            << "model: " << job.recipe.model_path << "  (recipe " << job.recipe.path << ")\n"
            << "data input: " << job.io.data_input << ": " << ir::to_string(g.value(job.io.data_input)->type)
            << "    labels: " << job.io.labels_input << ": " << ir::to_string(g.value(job.io.labels_input)->type)
            << "\n";
  size_t trainable = 0, trainable_count = 0;
  for (const auto& [p, next] : g.state_updates)
    if (job.inference.find_value(p->name) && g.param(p).dtype() == ir::DType::F32) {
      ++trainable;
      trainable_count += g.param(p).numel();
    }
  std::cout << "state tensors: " << g.state_updates.size() << " (" << trainable
            << " from the model: weights and BatchNorm statistics, " << trainable_count << " values)\n";
  std::cout << "optimizer: " << job.recipe.optimizer << ", schedule: " << job.recipe.schedule
            << ", global batch: " << job.recipe.batch_size << "\n";
  passes::GraphCost cost = passes::estimate_cost(g, batch);
  char buf[256];
  std::snprintf(buf, sizeof buf, "FLOPs per step (batch %lld): %.4g (%.3f GFLOP)\n", (long long)batch, cost.flops,
                cost.flops / 1e9);
  std::cout << buf;
  const runtime::MemoryPlan plan = executor_memory_plan(g, batch);
  std::cout << "planned memory at batch " << batch << ": parameters and optimizer state "
            << human_bytes(cost.param_bytes) << ", step arena " << human_bytes(double(plan.arena_bytes)) << " ("
            << plan.arena_bytes << " bytes, as fcrun plans it; peak of live activations "
            << human_bytes(double(plan.peak_live_bytes)) << "), total "
            << human_bytes(cost.param_bytes + double(plan.arena_bytes)) << "\n";
  std::map<std::string, int> hist;
  for (const auto& n : g.nodes()) ++hist[n->domain.empty() ? n->op : n->domain + "." + n->op];
  std::cout << "ops (" << g.nodes().size() << " nodes):\n";
  for (const auto& [op, k] : hist) std::cout << "  " << op << ": " << k << "\n";
  return 0;
}

int cmd_inspect(const std::vector<std::string>& argv) {
  cli::Args args(argv, {"--batch"}, {}, "fcc inspect");
  FC_CHECK(args.positionals().size() == 1, "fcc inspect: expected one MODEL argument");
  const std::string path = args.positionals()[0];
  const bool is_plan = frontend::is_plan_file(path);
  if (is_plan) return inspect_plan(path, args);
  ir::Graph g = cli::load_model(path);
  int batch = args.get("--batch") ? cli::parse_int(*args.get("--batch"), "--batch") : 1;
  std::cout << "model: " << path << "\n";
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

// `fcc compile --explain`: the gradient AllReduce buckets the cost model chose, and why.
void print_buckets(const cli::TrainingJob& job) {
  const passes::BucketPlan& p = job.buckets;
  const runtime::Recipe& r = job.recipe;
  std::printf("gradient allreduce plan: %s; per-rank batch %lld of %lld; backward %.1f GFLOP/s per rank\n",
              cli::describe_interconnect(r).c_str(), (long long)std::max<int64_t>(1, r.batch_size / cli::planned_ranks(r)),
              (long long)r.batch_size, r.device_gflops);
  std::printf("%-6s %-9s %11s %-17s %10s %10s %10s %11s  %s\n", "bucket", "tensors", "bytes", "algorithm", "ready ms",
              "start ms", "comm ms", "exposed ms", "first .. last tensor");
  for (size_t b = 0; b < p.buckets.size(); ++b) {
    const passes::PlannedBucket& k = p.buckets[b];
    std::printf("%-6zu %-9zu %11zu %-17s %10.3f %10.3f %10.3f %11.3f  %s%s\n", b, k.tensors.size(), k.bytes,
                k.algorithm.c_str(), k.ready_s * 1e3, k.start_s * 1e3, k.comm_s * 1e3, k.exposed_s * 1e3,
                k.tensors.empty() ? "" : k.tensors.front().c_str(),
                k.tensors.size() > 1 ? (" .. " + k.tensors.back()).c_str() : "");
  }
  std::printf("predicted step (backward + allreduce): %.3f ms with overlap (%.3f ms exposed), %.3f ms without "
              "(backward %.3f ms, allreduce %.3f ms)\n",
              p.step_overlapped_s() * 1e3, p.exposed_s * 1e3, p.step_serial_s() * 1e3, p.backward_s * 1e3,
              p.comm_s * 1e3);
}

int cmd_compile(const std::vector<std::string>& argv) {
  cli::Args args(argv, {"--emit", "-o", "--recipe", "--set", "--print-after", "--stop-after"},
                 {"--explain", "--verify-each", "--list-passes"}, "fcc compile");
  FC_CHECK(args.positionals().size() <= 1, "fcc compile: expected one MODEL argument");
  std::string emit = args.get("--emit").value_or("");
  FC_CHECK(emit.empty() || emit == "ir", "fcc compile: --emit ", emit, ": only `--emit ir` is supported");
  if (auto recipe = args.get("--recipe")) {
    std::vector<std::string> overrides = args.all("--set");
    if (!args.positionals().empty()) {
      // The model named on the command line is relative to the working directory, not the recipe.
      const std::string abs = std::filesystem::absolute(args.positionals()[0]).string();
      overrides.insert(overrides.begin(), "model.path=\"" + abs + "\"");
    }
    // The pipeline verifies the graph after every pass in any case; --verify-each is the explicit
    // spelling. Printing goes to stdout; a stopped pipeline's graph is only for reading.
    passes::PassManagerOptions pipeline;
    pipeline.verify_each = true;
    pipeline.print_after = args.get("--print-after").value_or("");
    pipeline.stop_after = args.get("--stop-after").value_or("");
    pipeline.dump = &std::cout;
    if (args.has("--list-passes")) {
      const runtime::Recipe r = runtime::load_recipe(*recipe, overrides);
      passes::TrainingGraphInfo info;
      for (const passes::Pass& p : passes::training_passes(cli::training_config(r), info)) std::cout << p.name << "\n";
      return 0;
    }
    FC_CHECK(pipeline.stop_after.empty() || emit == "ir" || !pipeline.print_after.empty(), "fcc compile --stop-after ",
             pipeline.stop_after, ": the graph stops part-built; read it with --emit ir or --print-after, no plan is written");
    cli::TrainingJob job = cli::job_from_recipe(*recipe, overrides, pipeline);
    if (!pipeline.stop_after.empty() || (!pipeline.print_after.empty() && emit.empty() && !args.has("-o"))) {
      if (emit == "ir") std::cout << ir::print_graph(job.train);
      return 0;
    }
    ir::verify(job.train);
    for (const std::string& note : cli::job_notes(job)) std::cerr << "fcc: " << note << "\n";
    if (args.has("--explain")) {
      print_buckets(job);
      if (!args.has("-o") && emit.empty()) return 0;
    }
    if (emit == "ir") {
      std::string text = ir::print_graph(job.train);
      if (auto out = args.get("-o")) write_text(*out, text);
      else std::cout << text;
      return 0;
    }
    FC_CHECK(args.has("-o"), "fcc compile: -o M.fcplan is required");
    cli::save_job_as_plan(job, *args.get("-o"));
    std::cout << "wrote " << *args.get("-o") << " (" << job.train.nodes().size() << " nodes, "
              << job.train.state_updates.size() << " state tensors)\n";
    return 0;
  }
  FC_CHECK(args.positionals().size() == 1, "fcc compile: expected one MODEL argument");
  FC_CHECK(emit == "ir", "fcc compile: give --recipe R.toml -o M.fcplan for a training plan, or --emit ir");
  ir::Graph g = cli::load_model(args.positionals()[0]);
  ir::verify(g);
  std::string text = ir::print_graph(g);
  if (auto out = args.get("-o")) write_text(*out, text);
  else std::cout << text;
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
    if (cmd == "simulate") return fc::cli::cmd_simulate(rest);
    fc::fail("unknown command '", cmd, "' (see fcc --help)");
  });
}
