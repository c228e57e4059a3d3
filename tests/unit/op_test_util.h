// Runs one op on the CPU backend: builds a one-node graph with the given inputs (as graph inputs, or
// as parameters when `as_params` marks them) and attributes, infers types, executes, returns outputs.
// A project op is named with its domain: "fc.MaxPoolTraining".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "op_coverage.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

namespace fc::test {

struct OpRun {
  std::vector<ir::Tensor> outputs;
  std::vector<ir::TensorType> inferred;  // output types from the op's shape function at compile time
};

// inputs[i] undefined (default-constructed Tensor) = omitted optional input. Counts as a forward
// reference case of the op at `where` (op_coverage.h): the caller compares the outputs.
inline OpRun run_op(const std::string& op, const std::vector<ir::Tensor>& inputs,
                    std::map<std::string, ir::Attribute> attrs = {}, int num_outputs = 1,
                    std::vector<bool> as_params = {}, int threads = 1,
                    const char* where = __builtin_FILE()) {
  ir::Graph g;
  std::vector<ir::Value*> ins;
  std::map<std::string, ir::Tensor> feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) {
      ins.push_back(nullptr);
      continue;
    }
    std::string name = "in" + std::to_string(i);
    if (i < as_params.size() && as_params[i]) {
      ins.push_back(g.add_param(name, inputs[i]));
    } else {
      ins.push_back(g.add_value(name, inputs[i].type()));
      g.inputs.push_back(ins.back());
      feeds[name] = inputs[i];
    }
  }
  std::vector<ir::Value*> outs;
  for (int i = 0; i < num_outputs; ++i) outs.push_back(g.add_value("out" + std::to_string(i), {}));
  const bool project_op = op.rfind("fc.", 0) == 0;
  ir::Node* node = g.add_node(project_op ? op.substr(3) : op, ins, outs, std::move(attrs), "test_" + op);
  if (project_op) node->domain = "fc";
  note_forward_case(node->domain, node->op, where);
  g.outputs = outs;
  ir::infer_graph_types(g);
  OpRun r;
  for (ir::Value* o : outs) r.inferred.push_back(o->type);
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor ex(g, cpu);
  auto res = ex.run(feeds);
  for (ir::Value* o : outs) r.outputs.push_back(res.at(o->name));
  return r;
}

// The outputs of `op` of `domain` ("" ONNX, "fc" the project's): run_op for callers that keep the
// domain apart.
inline std::vector<ir::Tensor> run_op_outputs(const std::string& op, const std::string& domain,
                                              const std::vector<ir::Tensor>& inputs,
                                              std::map<std::string, ir::Attribute> attrs = {}, int num_outputs = 1,
                                              int threads = 1,
                                              const char* where = __builtin_FILE()) {
  return run_op(domain.empty() ? op : domain + "." + op, inputs, std::move(attrs), num_outputs, {}, threads, where)
      .outputs;
}

template <typename T>
std::vector<T> values(const ir::Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

}  // namespace fc::test
