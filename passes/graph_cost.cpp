#include "passes/graph_cost.h"

#include <unordered_map>

namespace fc::passes {

ir::TensorType bind_batch(const ir::TensorType& t, int64_t batch) {
  ir::TensorType r = t;
  for (ir::Dim& d : r.dims)
    if (!d.is_known() && !d.symbol.empty()) d = ir::Dim::known(batch);
  return r;
}

GraphCost estimate_cost(const ir::Graph& g, int64_t batch) {
  std::unordered_map<const ir::Value*, ir::TensorType> types;
  for (const ir::Value* v : g.inputs) types[v] = bind_batch(v->type, batch);
  GraphCost total;
  for (const auto& n : g.nodes()) {
    std::vector<ir::TensorType> ins;
    std::vector<const ir::Tensor*> vals;
    for (const ir::Value* v : n->inputs) {
      if (!v) {
        ins.emplace_back();
        vals.push_back(nullptr);
      } else if (g.is_param(v)) {
        ins.push_back(v->type);
        vals.push_back(&g.param(v));
      } else {
        auto it = types.find(v);
        ins.push_back(it != types.end() ? it->second : bind_batch(v->type, batch));
        vals.push_back(nullptr);
      }
    }
    std::vector<ir::TensorType> outs = ir::infer_output_types(*n, ins, vals);
    for (ir::TensorType& t : outs) t = bind_batch(t, batch);
    for (size_t i = 0; i < n->outputs.size(); ++i) types[n->outputs[i]] = outs[i];
    bool concrete = true;
    for (const auto& t : outs) concrete &= t.is_concrete();
    ir::OpCost c = concrete ? ir::op_cost(*n, ins, vals, outs) : ir::OpCost{};
    total.flops += c.flops;
    total.bytes += c.bytes;
    total.nodes.push_back({n.get(), c, outs});
  }
  return total;
}

}  // namespace fc::passes
