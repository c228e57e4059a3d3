// Max pooling argmax for the backward (see pool_argmax.h).
#include "passes/pool_argmax.h"

#include <unordered_map>
#include <vector>

namespace fc::passes {
namespace {

using ir::Node;
using ir::Value;

// The window attributes are ints, int lists and a string; a gradient node carries a copy of its
// forward node's.
bool same_attrs(const Node& a, const Node& b) {
  if (a.attrs.size() != b.attrs.size()) return false;
  for (const auto& [key, value] : a.attrs) {
    const auto it = b.attrs.find(key);
    if (it == b.attrs.end() || value.index() != it->second.index()) return false;
    const ir::Attribute& other = it->second;
    if (const auto* i = std::get_if<int64_t>(&value); i && *i != std::get<int64_t>(other)) return false;
    if (const auto* v = std::get_if<std::vector<int64_t>>(&value); v && *v != std::get<std::vector<int64_t>>(other))
      return false;
    if (const auto* s = std::get_if<std::string>(&value); s && *s != std::get<std::string>(other)) return false;
    if (!std::holds_alternative<int64_t>(value) && !std::holds_alternative<std::string>(value) &&
        !std::holds_alternative<std::vector<int64_t>>(value))
      return false;  // not a window attribute
  }
  return true;
}

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
  std::unordered_map<const Node*, size_t> position;
  for (size_t i = 0; i < g.nodes().size(); ++i) position[g.nodes()[i].get()] = i;
  std::unordered_map<Node*, Value*> argmax_of;  // pools already given an argmax output
  for (const auto& grad : g.nodes()) {
    if (grad->domain != "fc" || grad->op != "MaxPoolGrad" || grad->inputs.size() != 2) continue;
    Value* x = grad->inputs[1];
    if (!x || !plane_fits_i32(*x)) continue;
    Node* pool = nullptr;
    for (Node* user : g.users(x))
      if (user->domain.empty() && user->op == "MaxPool" && (user->outputs.size() == 1 || argmax_of.count(user)) &&
          user->inputs[0] == x &&
          position[user] < position[grad.get()] && same_attrs(*user, *grad))
        pool = user;
    if (!pool) continue;
    Value*& argmax = argmax_of[pool];
    if (!argmax) {
      const Value* y = pool->outputs[0];
      argmax = g.add_value(g.unique_name(y->name + "/argmax"), ir::TensorType(ir::DType::I32, y->type.dims));
      argmax->producer = pool;
      argmax->producer_output = 1;
      pool->outputs.push_back(argmax);
    }
    grad->inputs.push_back(argmax);
  }
  for (const auto& [pool, argmax] : argmax_of) {
    pool->op = "MaxPoolTraining";
    pool->domain = "fc";
  }
  return static_cast<int64_t>(argmax_of.size());
}

}  // namespace fc::passes
