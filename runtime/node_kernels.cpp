#include "runtime/node_kernels.h"

#include "support/error.h"
#include "ir/op_registry.h"
#include "ir/step_analysis.h"

namespace fc::runtime {

namespace {

// Trace category of each node, from its step phase (ir/step_analysis.h) with the first graph output
// as the loss: a training graph's loss, an inference graph's prediction (all forward).
std::vector<const char*> node_categories(const ir::Graph& g) {
  const ir::StepAnalysis step = ir::analyze_step(g, g.outputs.empty() ? nullptr : g.outputs[0]);
  std::vector<const char*> cats;
  for (ir::StepPhase p : step.phases)
    cats.push_back(p == ir::StepPhase::Update          ? "optimizer"
                   : p == ir::StepPhase::Communication ? "allreduce"
                   : p == ir::StepPhase::Backward      ? "backward"
                                                       : "forward");
  return cats;
}

}  // namespace

NodeKernels::NodeKernels(const ir::Graph& graph, Backend& backend, std::function<bool(const ir::Value*)> is_state)
    : graph_(graph), backend_(backend), is_state_(std::move(is_state)) {
  const std::vector<const char*> categories = node_categories(graph);
  size_t i = 0;
  for (const auto& n : graph.nodes()) {
    FC_CHECK(backend.supports(*n), n->describe(), ": op '", n->op, "' has no ", backend.name(), " kernel");
    Entry& e = nodes_.emplace_back();
    e.node = n.get();
    e.category = categories[i++];
  }
}

void NodeKernels::build(Entry& e, const std::vector<ir::TensorType>& in_types, const std::vector<const Tensor*>& values,
                        const std::vector<std::vector<int64_t>>& shapes) {
  const ir::Node& n = *e.node;
  e.out_types = ir::infer_output_types(n, in_types, values);
  std::vector<const Tensor*> const_values;
  for (ir::Value* v : n.inputs)
    const_values.push_back(v && graph_.is_param(v) && !is_state_(v) ? &graph_.param(v) : nullptr);
  KernelSpec spec{n, in_types, const_values, e.out_types, backend_.threads()};
  e.kernel = backend_.make_kernel(spec);
  e.shapes = shapes;
}

Kernel& NodeKernels::for_inputs(size_t i, const std::vector<const Tensor*>& inputs) {
  Entry& e = nodes_[i];
  std::vector<std::vector<int64_t>> shapes;
  for (const Tensor* t : inputs) shapes.push_back(t ? t->dims() : std::vector<int64_t>{-1});
  if (!e.kernel || shapes != e.shapes) {
    std::vector<ir::TensorType> in_types;
    for (const Tensor* t : inputs) in_types.push_back(t ? t->type() : ir::TensorType{});
    build(e, in_types, inputs, shapes);
  }
  return *e.kernel;
}

std::optional<std::unordered_map<const ir::Value*, ir::TensorType>> NodeKernels::build_all(
    const std::unordered_map<const ir::Value*, ir::TensorType>& inputs,
    const std::function<const Tensor&(const ir::Value*)>& param) {
  std::unordered_map<const ir::Value*, ir::TensorType> types = inputs, produced;
  for (Entry& e : nodes_) {
    std::vector<ir::TensorType> in_types;
    std::vector<const Tensor*> values;  // parameters' values; what the step computes is not known yet
    std::vector<std::vector<int64_t>> shapes;
    for (ir::Value* v : e.node->inputs) {
      if (!v) {
        in_types.emplace_back();
        values.push_back(nullptr);
        shapes.push_back({-1});
      } else if (graph_.is_param(v)) {
        const Tensor& t = param(v);
        in_types.push_back(t.type());
        values.push_back(&t);
        shapes.push_back(t.dims());
      } else {
        auto it = types.find(v);
        if (it == types.end() || !it->second.is_concrete()) return std::nullopt;
        in_types.push_back(it->second);
        values.push_back(nullptr);
        shapes.push_back(it->second.sizes());
      }
    }
    if (!e.kernel || shapes != e.shapes) build(e, in_types, values, shapes);
    for (size_t k = 0; k < e.node->outputs.size(); ++k) {
      if (!e.out_types[k].is_concrete()) return std::nullopt;  // a size that depends on values
      types[e.node->outputs[k]] = e.out_types[k];
      produced[e.node->outputs[k]] = e.out_types[k];
    }
  }
  return produced;
}

}  // namespace fc::runtime
