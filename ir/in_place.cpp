#include "ir/in_place.h"

#include <unordered_set>

#include "ir/op_registry.h"

namespace fc::ir {

std::unordered_map<const Value*, const Value*> in_place_state_updates(const Graph& g) {
  std::unordered_map<const Value*, size_t> last_reader;
  const std::unordered_map<const Node*, size_t> position = g.node_positions();
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    for (const Value* v : g.nodes()[i]->inputs)
      if (v) last_reader[v] = i;
  }
  const std::unordered_set<const Value*> outputs(g.outputs.begin(), g.outputs.end());
  std::unordered_map<const Value*, const Value*> in_place;
  for (const auto& [param, next] : g.state_updates) {
    const Node* n = next ? next->producer : nullptr;
    if (!n || outputs.count(param) || outputs.count(next)) continue;
    size_t uses = 0;
    for (const Value* v : n->inputs) uses += v == param;
    const OpSchema* schema = OpRegistry::global().find(n->op, n->domain);
    if (!schema || !schema->in_place || uses != 1 || last_reader.at(param) != position.at(n)) continue;
    for (const auto& [out, in] : schema->in_place(*n))
      if (static_cast<size_t>(out) < n->outputs.size() && n->outputs[static_cast<size_t>(out)] == next &&
          static_cast<size_t>(in) < n->inputs.size() && n->inputs[static_cast<size_t>(in)] == param)
        in_place[next] = param;
  }
  return in_place;
}

}  // namespace fc::ir
