// Gradients through autodiff and the CPU kernels, for the gradient-kernel tests of tests/unit/ops/:
// the vector-Jacobian product of one op, its inputs as parameters.
#pragma once

#include <map>
#include <random>
#include <string>
#include <vector>

#include "ir/op_registry.h"
#include "ops_dnnl_test_util.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

namespace fc::test {

struct Vjp {
  ir::Tensor dy;                     // the seed, random, of the output's shape
  std::map<int, ir::Tensor> grads;   // input index -> gradient
  std::vector<std::string> ops;      // ops of the gradient nodes, "fc.X" for project ops
};

// Gradients of <dy, op(inputs)> with respect to inputs `wrt` (all inputs are parameters).
inline Vjp vjp(const std::string& op, const std::vector<ir::Tensor>& inputs,
               const std::map<std::string, ir::Attribute>& attrs, const std::vector<int>& wrt, int threads = 1) {
  ir::Graph g;
  std::vector<ir::Value*> ins;
  for (size_t i = 0; i < inputs.size(); ++i)
    ins.push_back(inputs[i].defined() ? g.add_param("in" + std::to_string(i), inputs[i]) : nullptr);
  ir::Value* y = g.add_value("y", {});
  g.add_node(op, ins, {y}, attrs, "fwd");
  ir::infer_graph_types(g);
  std::mt19937 rng(7);
  Vjp r;
  r.dy = random_tensor(y->type.sizes(), rng);
  std::vector<ir::Value*> want;
  for (int i : wrt) want.push_back(ins[i]);
  const size_t forward_nodes = g.nodes().size();
  passes::Gradients gr = passes::build_vjp(g, {{y, g.add_param("dy", r.dy)}}, want);
  for (size_t i = forward_nodes; i < g.nodes().size(); ++i) {
    const ir::Node& n = *g.nodes()[i];
    r.ops.push_back(n.domain.empty() ? n.op : n.domain + "." + n.op);
  }
  for (int i : wrt) g.outputs.push_back(gr.of.at(ins[i]));
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor ex(g, cpu);
  auto out = ex.run({});
  for (size_t k = 0; k < wrt.size(); ++k) r.grads[wrt[k]] = out.at(g.outputs[k]->name);
  return r;
}

// d/d(inputs) of sum(seed * op(inputs)) built by autodiff and run, for a given seed.
inline std::vector<ir::Tensor> seeded_vjp(const std::string& op, const std::vector<ir::Tensor>& inputs,
                                          const ir::Tensor& seed, std::map<std::string, ir::Attribute> attrs = {}) {
  ir::Graph g;
  std::vector<ir::Value*> params;
  for (size_t i = 0; i < inputs.size(); ++i) params.push_back(g.add_param("p" + std::to_string(i), inputs[i]));
  ir::Value* y = g.add_value("y", {});
  g.add_node(op, params, {y}, std::move(attrs), "op");
  ir::infer_graph_types(g);
  passes::Gradients gr = passes::build_vjp(g, {{y, g.add_param("seed", seed)}}, params);
  for (ir::Value* p : params) g.outputs.push_back(gr.of.at(p));
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  auto out = ex.run({});
  std::vector<ir::Tensor> r;
  for (ir::Value* p : params) r.push_back(out.at(gr.of.at(p)->name));
  return r;
}

}  // namespace fc::test
