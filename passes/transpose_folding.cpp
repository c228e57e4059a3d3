// Transpose folding (see transpose_folding.h).
#include "passes/transpose_folding.h"

#include <algorithm>
#include <vector>

#include "ir/op_registry.h"
#include "support/error.h"

namespace fc::passes {
namespace {

using ir::Node;
using ir::Value;

// A Transpose of rank >= 2 swapping the last two axes and keeping the others in place.
bool swaps_last_two(const Node* n) {
  if (!n || !n->domain.empty() || n->op != "Transpose" || n->inputs.size() != 1) return false;
  const size_t r = n->inputs[0]->type.rank();
  if (r < 2) return false;
  if (!n->has_attr("perm")) return r == 2;  // the default reverses the axes
  const std::vector<int64_t>& p = n->attr_ints("perm");
  if (p.size() != r) return false;
  for (size_t i = 0; i + 2 < r; ++i)
    if (p[i] != static_cast<int64_t>(i)) return false;
  return p[r - 2] == static_cast<int64_t>(r - 1) && p[r - 1] == static_cast<int64_t>(r - 2);
}

bool is_matmul(const Node& n) { return n.domain.empty() && n.op == "MatMul"; }
bool is_transposed_matmul(const Node& n) { return n.domain == "fc" && n.op == "TransposedMatMul"; }

// A product both of whose operands have rank >= 2 (1-D MatMul operands are vectors, not matrices).
bool foldable_product(const Node& n) {
  return (is_matmul(n) || is_transposed_matmul(n)) && n.inputs.size() == 2 && n.inputs[0]->type.rank() >= 2 &&
         n.inputs[1]->type.rank() >= 2;
}

// Turns a MatMul into the fc.TransposedMatMul it equals (no flags set).
void make_transposed_matmul(Node& n) {
  if (is_transposed_matmul(n)) return;
  n.op = "TransposedMatMul";
  n.domain = "fc";
  n.attrs = {{"trans_a", int64_t{0}}, {"trans_b", int64_t{0}}};
}

void flip(Node& n, const char* flag) { n.attrs[flag] = int64_t{n.attr_int(flag) == 0 ? 1 : 0}; }

// The product's output is read by one Transpose of its last two axes and by nothing else (not a
// graph output, not training state).
Node* sole_transpose_reader(const ir::Graph& g, const Node& n) {
  const Value* y = n.outputs[0];
  if (std::find(g.outputs.begin(), g.outputs.end(), y) != g.outputs.end()) return nullptr;
  for (const auto& [a, b] : g.state_updates)
    if (a == y || b == y) return nullptr;
  for (const auto& [a, b] : g.accumulations)
    if (a == y || b == y) return nullptr;
  const std::vector<Node*> users = g.users(y);
  return users.size() == 1 && swaps_last_two(users[0]) ? users[0] : nullptr;
}

}  // namespace

TransposeFolding fold_transposes(ir::Graph& g) {
  TransposeFolding folded;
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<Node*> products;
    for (const auto& n : g.nodes())
      if (foldable_product(*n)) products.push_back(n.get());
    for (Node* n : products) {
      for (size_t i = 0; i < 2; ++i) {
        Node* t = n->inputs[i]->producer;
        if (!swaps_last_two(t)) continue;
        make_transposed_matmul(*n);
        n->inputs[i] = t->inputs[0];
        flip(*n, i == 0 ? "trans_a" : "trans_b");
        ++folded.operands;
        changed = true;
      }
      if (Node* t = sole_transpose_reader(g, *n)) {
        make_transposed_matmul(*n);
        const int64_t ta = n->attr_int("trans_a"), tb = n->attr_int("trans_b");
        std::swap(n->inputs[0], n->inputs[1]);
        n->attrs["trans_a"] = int64_t{tb == 0 ? 1 : 0};
        n->attrs["trans_b"] = int64_t{ta == 0 ? 1 : 0};
        Value* old = n->outputs[0];
        Value* y = t->outputs[0];
        g.remove_node(t);
        n->outputs[0] = y;
        y->producer = n;
        y->producer_output = 0;
        old->producer = nullptr;
        g.remove_value(old);
        ++folded.outputs;
        changed = true;
      }
      // The product's result must not change: its type is re-inferred and compared.
      const ir::TensorType want = n->outputs[0]->type;
      ir::infer_node_types(g, *n);
      FC_CHECK(n->outputs[0]->type == want, n->describe(), ": transpose folding changed its type from ",
               ir::to_string(want), " to ", ir::to_string(n->outputs[0]->type));
    }
  }
  if (folded.operands + folded.outputs > 0) g.remove_dead_nodes();
  return folded;
}

}  // namespace fc::passes
