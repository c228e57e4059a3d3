// Elementwise fusion (see elementwise_fusion.h).
#include "passes/elementwise_fusion.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "support/error.h"
#include "ir/fused_kernel.h"
#include "ir/op_registry.h"

namespace fc::passes {
namespace {

using ir::Dim;
using ir::DType;
using ir::Node;
using ir::Value;

// A dimension two tensors can be known to share: a size or a named symbol (never "unknown").
bool comparable(const Dim& d) { return d.is_known() || !d.symbol.empty(); }

// The shape every output of `n` has when `n` can be fused: all f32, one output shape, and every input
// broadcasting to it by numpy rules. Empty optional when it cannot.
std::optional<std::vector<Dim>> fusible_shape(const Node& n) {
  const ir::OpSchema* schema = ir::OpRegistry::global().find(n.op, n.domain);
  if (!schema || !schema->scalar || n.outputs.empty()) return std::nullopt;
  const std::vector<Dim>& dims = n.outputs[0]->type.dims;
  for (const Dim& d : dims)
    if (!comparable(d)) return std::nullopt;
  for (const Value* o : n.outputs)
    if (!o || o->type.dtype != DType::F32 || o->type.dims != dims) return std::nullopt;
  for (const Value* in : n.inputs) {
    if (!in || in->type.dtype != DType::F32 || in->type.rank() > dims.size()) return std::nullopt;
    const size_t off = dims.size() - in->type.rank();
    for (size_t d = 0; d < in->type.rank(); ++d) {
      const Dim& di = in->type.dims[d];
      if (!(di == dims[off + d] || (di.is_known() && di.size == 1))) return std::nullopt;
    }
  }
  return dims;
}

struct Group {
  std::vector<Node*> members;
  std::vector<Dim> dims;
  size_t first = 0;  // position of the first member
};

// Assigns fusible nodes to groups in one pass over the topological order.
std::vector<Group> form_groups(const ir::Graph& g) {
  std::unordered_map<const Node*, size_t> position = g.node_positions();
  std::vector<Group> groups;
  std::unordered_map<const Node*, size_t> group_of;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    Node* n = g.nodes()[i].get();
    const auto dims = fusible_shape(*n);
    if (!dims) continue;
    // Inputs made outside group `gi` must exist where the group starts.
    auto joins = [&](size_t gi) {
      if (groups[gi].dims != *dims) return false;
      for (const Value* in : n->inputs) {
        if (!in->producer) continue;
        auto it = group_of.find(in->producer);
        if (it != group_of.end() && it->second == gi) continue;
        if (position.at(in->producer) >= groups[gi].first) return false;
      }
      return true;
    };
    std::optional<size_t> chosen;
    for (const Value* in : n->inputs) {
      auto it = in->producer ? group_of.find(in->producer) : group_of.end();
      if (it != group_of.end() && joins(it->second)) {
        chosen = it->second;
        break;
      }
    }
    if (!chosen) {
      chosen = groups.size();
      groups.push_back(Group{{}, *dims, i});
    }
    groups[*chosen].members.push_back(n);
    group_of[n] = *chosen;
  }
  return groups;
}

// Which nodes read each value, and the values read from outside any node (graph outputs, new
// training state). Taken before fusing: groups are disjoint, so a reader that is not a member of a
// group is outside it, whatever it was fused into since (the pointers are compared, never followed).
struct Readers {
  std::unordered_map<const Value*, std::vector<const Node*>> nodes;
  std::unordered_set<const Value*> graph;
  bool outside(const Value* v, const std::unordered_set<const Node*>& group) const {
    if (graph.count(v)) return true;
    auto it = nodes.find(v);
    if (it == nodes.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [&](const Node* r) { return !group.count(r); });
  }
};

Readers find_readers(const ir::Graph& g) {
  Readers r;
  r.graph.insert(g.outputs.begin(), g.outputs.end());
  for (const auto& [state, next] : g.state_updates) r.graph.insert(next);
  for (const auto& [acc, sum] : g.accumulations) r.graph.insert(sum);
  for (const auto& n : g.nodes())
    for (const Value* in : n->inputs) r.nodes[in].push_back(n.get());
  return r;
}

void fuse_group(ir::Graph& g, const Group& group, const Readers& readers) {
  std::unordered_set<const Node*> inside(group.members.begin(), group.members.end());
  ir::FusedKernel k;
  std::vector<Value*> inputs;
  std::unordered_map<const Value*, int> id;  // value -> its scalar value id in k
  auto value_id = [&](Value* v) {
    if (auto it = id.find(v); it != id.end()) return it->second;
    FC_ASSERT(!v->producer || !inside.count(v->producer));
    inputs.push_back(v);
    k.add_input({});
    return id[v] = k.load(static_cast<int>(inputs.size()) - 1);
  };
  std::vector<Value*> outputs, internal;  // member outputs read outside the group / only inside
  std::vector<std::string> ops;
  for (const Node* n : group.members) {
    std::vector<int> in;
    for (Value* v : n->inputs) in.push_back(value_id(v));
    const ir::OpSchema* schema = ir::OpRegistry::global().find(n->op, n->domain);
    const std::vector<int> out = schema->scalar(k, *n, in);
    FC_CHECK(out.size() == n->outputs.size(), n->describe(), ": scalar form made ", out.size(), " outputs");
    for (size_t j = 0; j < out.size(); ++j) {
      id[n->outputs[j]] = out[j];
      if (readers.outside(n->outputs[j], inside)) {
        outputs.push_back(n->outputs[j]);
        k.add_output(out[j]);
      } else {
        internal.push_back(n->outputs[j]);
      }
    }
    ops.push_back(n->domain.empty() ? n->op : n->domain + "." + n->op);
  }
  FC_CHECK(!outputs.empty(), "fusion: group starting at ", group.members[0]->describe(), " has no used output");

  Node* first = group.members[0];
  const std::string name = g.unique_node_name("fused/" + first->name);
  for (size_t m = 1; m < group.members.size(); ++m) g.remove_node(group.members[m]);
  const Node* next = nullptr;
  for (size_t i = 0; i + 1 < g.nodes().size(); ++i)
    if (g.nodes()[i].get() == first) next = g.nodes()[i + 1].get();
  g.remove_node(first);
  for (Value* v : internal) g.remove_value(v);
  Node* fused = g.add_node("Fused", inputs, outputs, {{"program", k.body_text()}, {"ops", ops}}, name);
  fused->domain = "fc";
  if (next) g.move_before(fused, next);
}

// Folds Relu(y) into the node making y when y is read by that Relu alone and the node can apply it as
// it writes y: fc.BatchNormTraining (output 0; its `relu` attribute) and Conv (which becomes
// fc.ConvRelu). That node then produces the Relu's value itself. Returns how many it folded.
int64_t fold_relus(ir::Graph& g) {
  const Readers readers = find_readers(g);
  const auto folds_into = [](const Node& p, const Value* y) {
    if (p.op == "BatchNormTraining" && p.domain == "fc") return y->producer_output == 0 && p.attr_int("relu") == 0;
    return p.op == "Conv" && p.domain.empty();
  };
  std::vector<Node*> relus;
  for (const auto& n : g.nodes()) {
    if (n->op != "Relu" || !n->domain.empty() || n->inputs.size() != 1) continue;
    const Value* y = n->inputs[0];
    if (y->producer && folds_into(*y->producer, y) && !readers.outside(y, {n.get()})) relus.push_back(n.get());
  }
  for (Node* relu : relus) {
    Value* y = relu->inputs[0];
    Node* p = y->producer;
    Value* out = relu->outputs[0];
    g.remove_node(relu);
    out->producer = p;
    out->producer_output = y->producer_output;
    p->outputs[static_cast<size_t>(y->producer_output)] = out;
    if (p->op == "Conv") {
      p->op = "ConvRelu";
      p->domain = "fc";
    } else {
      p->attrs["relu"] = int64_t{1};
    }
    y->producer = nullptr;
    g.remove_value(y);
  }
  return static_cast<int64_t>(relus.size());
}

}  // namespace

FusionStats fuse_elementwise(ir::Graph& g) {
  FusionStats stats;
  stats.relus_folded = fold_relus(g);
  const std::vector<Group> groups = form_groups(g);
  const Readers readers = find_readers(g);
  for (const Group& group : groups) {
    if (group.members.size() < 2) continue;
    fuse_group(g, group, readers);
    ++stats.groups;
    stats.nodes_fused += static_cast<int64_t>(group.members.size());
  }
  return stats;
}

}  // namespace fc::passes
