// Max pooling argmax for the backward (see pool_argmax.h).
#include "passes/pool_argmax.h"

#include <map>
#include <vector>

#include "ir/op_registry.h"

namespace fc::passes {
namespace {

using ir::Node;
using ir::Value;

// Offsets into x's (n, c) plane fit i32.
bool plane_fits_i32(const Value& x) {
  int64_t plane = 1;
  for (size_t i = 2; i < x.type.rank(); ++i) {
    if (!x.type.dims[i].is_known()) return false;
    plane *= x.type.dims[i].size;
    if (plane >= (int64_t{1} << 31)) return false;
  }
  return true;
}

}  // namespace

int64_t save_pool_argmax(ir::Graph& g) {
  // Each MaxPool (one output: no Indices asked for) with the gradients autodiff made for it.
  std::map<Node*, std::vector<Node*>> grads_of;
  std::vector<Node*> pools;  // in graph order
  for (const auto& grad : g.nodes()) {
    Node* pool = grad->gradient_of;
    if (grad->domain != "fc" || grad->op != "MaxPoolGrad" || grad->inputs.size() != 2 || !pool) continue;
    if (!pool->domain.empty() || pool->op != "MaxPool" || pool->outputs.size() != 1 ||
        pool->inputs[0] != grad->inputs[1] || !plane_fits_i32(*pool->inputs[0]))
      continue;
    if (grads_of[pool].empty()) pools.push_back(pool);
    grads_of[pool].push_back(grad.get());
  }
  // fc.MaxPoolTraining takes the pool's place, its outputs y and argmax typed by its own record.
  for (Node* pool : pools) {
    const std::vector<Node*> grads = grads_of[pool];
    Value* y = pool->outputs[0];
    Value* argmax = g.add_value(g.unique_name(y->name + "/argmax"), {});
    const std::vector<Value*> inputs = pool->inputs;
    const auto attrs = pool->attrs;
    const std::string name = pool->name;
    const auto at = std::find_if(g.nodes().begin(), g.nodes().end(), [&](const auto& n) { return n.get() == pool; });
    const Node* next = at + 1 != g.nodes().end() ? (at + 1)->get() : nullptr;
    g.remove_node(pool);
    Node* training = ir::add_node_inferred(g, "MaxPoolTraining", "fc", inputs, {y, argmax}, attrs, name);
    if (next) g.move_before(training, next);
    for (Node* grad : grads) {
      grad->inputs.push_back(argmax);
      grad->gradient_of = training;
    }
  }
  return static_cast<int64_t>(pools.size());
}

}  // namespace fc::passes
