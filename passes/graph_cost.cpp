#include "passes/graph_cost.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "ir/liveness.h"

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
  for (const ir::Value* p : g.param_order()) total.param_bytes += double(g.param(p).nbytes());
  // Liveness: the executor's (ir/liveness.h), each value freed after its last reader.
  const std::unordered_map<const ir::Value*, int> last_use = ir::last_uses(g);
  std::unordered_map<const ir::Value*, double> live_bytes;
  double live = 0;
  auto bytes_of = [](const ir::TensorType& t) {
    return t.is_concrete() ? double(t.numel()) * double(ir::dtype_size(t.dtype)) : 0.0;
  };
  for (const ir::Value* v : g.inputs) {
    live_bytes[v] = bytes_of(types[v]);
    live += live_bytes[v];
  }
  int index = 0;
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
    // Cost functions read input and output sizes: only nodes whose types are all known are costed.
    bool concrete = true;
    for (const auto& t : outs) concrete &= t.is_concrete();
    for (size_t i = 0; i < ins.size(); ++i) concrete &= !n->inputs[i] || ins[i].is_concrete();
    ir::OpCost c = concrete ? ir::op_cost(*n, ins, vals, outs) : ir::OpCost{};
    total.flops += c.flops;
    total.bytes += c.bytes;
    total.nodes.push_back({n.get(), c, outs});
    for (size_t i = 0; i < outs.size(); ++i) {
      live_bytes[n->outputs[i]] = bytes_of(outs[i]);
      live += live_bytes[n->outputs[i]];
    }
    total.peak_activation_bytes = std::max(total.peak_activation_bytes, live);
    for (const ir::Value* v : n->inputs)
      if (v && live_bytes.count(v) && last_use.at(v) == index) {
        live -= live_bytes[v];
        live_bytes.erase(v);
      }
    for (size_t i = 0; i < outs.size(); ++i)  // outputs nobody reads
      if (!last_use.count(n->outputs[i]) && live_bytes.count(n->outputs[i])) {
        live -= live_bytes[n->outputs[i]];
        live_bytes.erase(n->outputs[i]);
      }
    ++index;
  }
  return total;
}

}  // namespace fc::passes
