// Update fusion (see update_fusion.h).
#include "passes/update_fusion.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/op_registry.h"
#include "ir/scalar_form.h"

namespace fc::passes {
namespace {

using ir::Node;
using ir::Value;

bool has_tables(const Node& n) {
  const ir::OpSchema* s = ir::OpRegistry::global().find(n.op, n.domain);
  return s && s->scalar && !s->table_inputs.empty();
}

// What members of one group share: the program (op, the attributes it uses, arity), the table
// inputs, the producers of the other inputs.
std::string group_key(const Node& n) {
  const ir::OpSchema* s = ir::OpRegistry::global().find(n.op, n.domain);
  std::string key = n.domain + "::" + n.op + "|" + ir::node_kernel(n).body_text();
  std::set<const Node*> producers;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Value* v = n.inputs[i];
    if (std::find(s->table_inputs.begin(), s->table_inputs.end(), static_cast<int>(i)) != s->table_inputs.end())
      key += "|table " + std::to_string(i) + "=" + std::to_string(reinterpret_cast<uintptr_t>(v));
    else if (v && v->producer)
      producers.insert(v->producer);
  }
  for (const Node* p : producers) key += "|from " + std::to_string(reinterpret_cast<uintptr_t>(p));
  return key;
}

}  // namespace

UpdateFusionStats fuse_updates(ir::Graph& g) {
  UpdateFusionStats stats;
  std::unordered_map<const Node*, size_t> position = g.node_positions();
  std::map<std::string, std::vector<Node*>> groups;  // members in graph order
  std::vector<std::string> order;                    // keys in order of first member
  for (const auto& n : g.nodes()) {
    if (!has_tables(*n)) continue;
    const std::string key = group_key(*n);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(n.get());
  }
  for (const std::string& key : order) {
    const std::vector<Node*>& members = groups[key];
    if (members.size() < 2) continue;
    // No node between the first and the last member may read a member's output (it would run
    // before the fused node), and outputs read outside the graph's nodes are fine.
    const std::unordered_set<const Node*> inside(members.begin(), members.end());
    std::unordered_set<const Value*> made;
    for (const Node* m : members) made.insert(m->outputs.begin(), m->outputs.end());
    bool movable = true;
    for (size_t i = position.at(members.front()); i < position.at(members.back()) && movable; ++i) {
      const Node* n = g.nodes()[i].get();
      if (inside.count(n)) continue;
      for (const Value* v : n->inputs) movable = movable && !made.count(v);
    }
    for (const Node* m : members)
      for (const Value* v : m->inputs) movable = movable && !made.count(v);
    if (!movable) continue;

    const Node& first = *members.front();
    const ir::OpSchema* schema = ir::OpRegistry::global().find(first.op, first.domain);
    std::vector<int64_t> in_place;
    if (schema->in_place)
      for (const auto& [out, in] : schema->in_place(first)) in_place.insert(in_place.end(), {out, in});
    const std::string program = ir::node_kernel(first).body_text();
    std::vector<Value*> inputs, outputs;
    for (const Node* m : members) {
      inputs.insert(inputs.end(), m->inputs.begin(), m->inputs.end());
      outputs.insert(outputs.end(), m->outputs.begin(), m->outputs.end());
    }
    const std::string op = first.domain.empty() ? first.op : first.domain + "." + first.op;
    const std::string name = g.unique_node_name("fused_updates/" + first.name);
    const Node* last = members.back();
    const Node* next = nullptr;
    for (size_t i = 0; i + 1 < g.nodes().size(); ++i)
      if (g.nodes()[i].get() == last) next = g.nodes()[i + 1].get();
    for (Node* m : members) g.remove_node(m);
    Node* fused = g.add_node("HorizontalFused", inputs, outputs,
                             {{"program", program},
                              {"segments", static_cast<int64_t>(members.size())},
                              {"ops", std::vector<std::string>{op}},
                              {"in_place", in_place}},
                             name);
    fused->domain = "fc";
    if (next) g.move_before(fused, next);
    ++stats.groups;
    stats.nodes_fused += static_cast<int64_t>(members.size());
    // Positions after the removed members shifted: recompute for the next group.
    position = g.node_positions();
  }
  return stats;
}

}  // namespace fc::passes
