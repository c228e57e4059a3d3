// Attention fusion (see attention_fusion.h): finds each chain from its Softmax, checks every link,
// then replaces the chain's five nodes by one fc.Attention.
#include "passes/attention_fusion.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_set>
#include <vector>

#include "ir/op_registry.h"

namespace fc::passes {
namespace {

using ir::DType;
using ir::Graph;
using ir::Node;
using ir::Value;

// v's producer when it is the ONNX op `op`.
Node* made_by(const Value* v, const char* op) {
  return v && v->producer && v->producer->domain.empty() && v->producer->op == op ? v->producer : nullptr;
}

// Whether v is read by one node only and is no graph output: the chain may then drop it.
bool only_feeds_chain(const Graph& g, const Value* v) {
  return g.users(v).size() == 1 && std::find(g.outputs.begin(), g.outputs.end(), v) == g.outputs.end();
}

bool is_scalar(const Value* v) {
  for (const ir::Dim& d : v->type.dims)
    if (!d.is_known() || d.size != 1) return false;
  return true;
}

// What stays the same through training: Constant nodes' values and frozen parameters'.
struct Constants {
  const Graph& g;
  const std::set<std::string>& frozen;
  bool frozen_param(const Value* v) const { return g.is_param(v) && frozen.count(v->name); }
};

// Whether v is computed from constants alone (no trained parameter, no graph input, no random op):
// a value autodiff would give no gradient anyway. A worklist over producers.
bool from_constants(const Constants& c, const Value* v) {
  std::vector<const Value*> work{v};
  std::unordered_set<const Value*> seen;
  while (!work.empty()) {
    const Value* x = work.back();
    work.pop_back();
    if (!x || !seen.insert(x).second || c.frozen_param(x)) continue;
    const Node* n = x->producer;
    if (!n) return false;
    if (n->inputs.empty() && !(n->domain.empty() && n->op == "Constant")) return false;
    for (const Value* in : n->inputs) work.push_back(in);
  }
  return true;
}

bool is_neg_inf(const Constants& c, const Value* v) {
  const Node* k = made_by(v, "Constant");
  const ir::Tensor* t = k && k->has_attr("value") ? &k->attr_tensor("value") : nullptr;
  if (!t && c.frozen_param(v)) t = &c.g.param(v);
  if (!t || !is_scalar(v)) return false;
  return t->dtype() == DType::F32 && t->numel() == 1 && std::isinf(t->data<float>()[0]) && t->data<float>()[0] < 0;
}

bool same_batch_axes(const Value* a, const Value* b) {
  const auto& x = a->type.dims;
  const auto& y = b->type.dims;
  if (x.size() != y.size() || x.size() < 2) return false;
  return std::equal(x.begin(), x.end() - 2, y.begin());
}

struct Match {
  Node* scores = nullptr;   // MatMul(q, kt)
  Node* scaling = nullptr;  // Mul / Div, or null
  Node* masking = nullptr;  // Where / Add, or null
  Node* softmax = nullptr;
  Node* output = nullptr;   // MatMul(p, v)
  Value* scale = nullptr;   // the constant factor (Div: the divisor)
  Value* mask = nullptr;
  int64_t mask_keep = 0;
};

// The chain ending in `sm`, or nothing when any link does not fit.
std::optional<Match> match(const Graph& g, const Constants& c, Node* sm) {
  Match m;
  m.softmax = sm;
  const Value* p = sm->outputs[0];
  const int64_t rank = static_cast<int64_t>(p->type.rank());
  if (rank < 2 || ir::normalize_axis(sm->attr_int("axis"), rank, sm->describe()) != rank - 1) return std::nullopt;
  const std::vector<Node*> users = g.users(p);
  if (users.size() != 1 || !only_feeds_chain(g, p)) return std::nullopt;
  m.output = users[0];
  if (!(m.output->domain.empty() && m.output->op == "MatMul" && m.output->inputs[0] == p)) return std::nullopt;

  Value* s = sm->inputs[0];
  if (Node* w = made_by(s, "Where"); w && only_feeds_chain(g, s)) {
    const bool fill_second = is_neg_inf(c, w->inputs[1]), fill_third = is_neg_inf(c, w->inputs[2]);
    if (fill_second == fill_third || w->inputs[0]->type.dtype != DType::Bool) return std::nullopt;
    m.masking = w;
    m.mask = w->inputs[0];
    m.mask_keep = fill_third ? 1 : 0;
    s = fill_third ? w->inputs[1] : w->inputs[2];
  } else if (Node* a = made_by(s, "Add"); a && only_feeds_chain(g, s)) {
    // The scores are the operand made by the scaling or the product; the other is the mask.
    const int side = made_by(a->inputs[0], "Mul") || made_by(a->inputs[0], "Div") || made_by(a->inputs[0], "MatMul")
                         ? 0 : 1;
    m.masking = a;
    m.mask = a->inputs[1 - side];
    if (m.mask->type.dtype != DType::F32 || !from_constants(c, m.mask)) return std::nullopt;
    s = a->inputs[side];
  }
  // A mask that broadcasts the scores up (to more heads, say) would change the output's shape.
  if (!only_feeds_chain(g, s) || s->type != sm->inputs[0]->type) return std::nullopt;
  if (Node* mul = made_by(s, "Mul")) {
    const int side = made_by(mul->inputs[0], "MatMul") ? 0 : 1;
    m.scaling = mul;
    m.scale = mul->inputs[1 - side];
    s = mul->inputs[side];
  } else if (Node* div = made_by(s, "Div")) {
    m.scaling = div;
    m.scale = div->inputs[1];
    s = div->inputs[0];
  }
  if (m.scale && (m.scale->type.dtype != DType::F32 || !is_scalar(m.scale) || !from_constants(c, m.scale)))
    return std::nullopt;
  m.scores = made_by(s, "MatMul");
  if (!m.scores || (m.scaling && !only_feeds_chain(g, s))) return std::nullopt;
  const Value* q = m.scores->inputs[0];
  const Value* kt = m.scores->inputs[1];
  const Value* v = m.output->inputs[1];
  if (q->type.rank() != static_cast<size_t>(rank) || !same_batch_axes(q, kt) || !same_batch_axes(q, v))
    return std::nullopt;
  for (const Value* x : {q, kt, v})
    if (x->type.dtype != DType::F32) return std::nullopt;
  return m;
}

void replace(Graph& g, const Match& m) {
  const std::string name = g.unique_node_name(m.softmax->name + "/attention");
  Value* scale = m.scale;
  if (!scale) {  // no scaling: a factor of 1
    scale = g.add_value(g.unique_name(name + "/scale"), {});
    ir::add_node_inferred(g, "Constant", "", {}, {scale}, {{"value", ir::Tensor::scalar<float>(1.0f)}}, name + "/scale");
  } else if (m.scaling->op == "Div") {
    Value* divisor = scale;
    scale = g.add_value(g.unique_name(name + "/scale"), {});
    ir::add_node_inferred(g, "Reciprocal", "", {divisor}, {scale}, {}, name + "/scale");
  }
  Value* q = m.scores->inputs[0];
  Value* kt = m.scores->inputs[1];
  Value* v = m.output->inputs[1];
  Value* y = m.output->outputs[0];
  std::vector<Value*> dropped;
  for (Node* n : {m.scores, m.scaling, m.masking, m.softmax})
    if (n) dropped.push_back(n->outputs[0]);
  for (Node* n : {m.scores, m.scaling, m.masking, m.softmax, m.output})
    if (n) g.remove_node(n);
  for (Value* d : dropped) g.remove_value(d);
  Value* lse = g.add_value(g.unique_name(name + "/lse"), {});
  std::vector<Value*> inputs = {q, kt, v, scale};
  if (m.mask) inputs.push_back(m.mask);
  ir::add_node_inferred(g, "Attention", "fc", inputs, {y, lse}, {{"mask_keep", m.mask_keep}}, name);
}

}  // namespace

int64_t fuse_attention(Graph& g, const std::set<std::string>& frozen) {
  const Constants constants{g, frozen};
  std::vector<Node*> softmaxes;
  for (const auto& n : g.nodes())
    if (n->domain.empty() && n->op == "Softmax") softmaxes.push_back(n.get());
  // Chains are disjoint (each intermediate has one reader), so all can be matched before any changes.
  std::vector<Match> matches;
  for (Node* sm : softmaxes)
    if (auto m = match(g, constants, sm)) matches.push_back(*m);
  for (const Match& m : matches) replace(g, m);
  if (!matches.empty()) g.toposort();
  return static_cast<int64_t>(matches.size());
}

}  // namespace fc::passes
