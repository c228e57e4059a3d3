// The IR verifier: one forward walk over the nodes with the set of values defined so far.
//
// Type policy: a recorded type must equal what the op's shape function infers in element type and
// rank exactly; dimension by dimension, equal, or either side unknown ('?') — the text or the
// importer may know a size the shape function cannot derive, and vice versa. A recorded
// Undefined element type (a value whose type was never inferred) is an error; an inferred
// Undefined element type accepts any recorded one. A known size never matches a symbol, and two
// different symbols never match.
#include "ir/verifier.h"

#include <string>
#include <unordered_map>
#include <unordered_set>

#include "support/error.h"
#include "ir/op_registry.h"

namespace fc::ir {

namespace {

bool dims_compatible(const Dim& recorded, const Dim& inferred) {
  if (recorded == inferred) return true;
  bool recorded_unknown = !recorded.is_known() && recorded.symbol.empty();
  bool inferred_unknown = !inferred.is_known() && inferred.symbol.empty();
  return recorded_unknown || inferred_unknown;
}

bool types_compatible(const TensorType& recorded, const TensorType& inferred) {
  if (recorded.dtype == DType::Undefined) return false;
  if (inferred.dtype != DType::Undefined && recorded.dtype != inferred.dtype) return false;
  if (recorded.rank() != inferred.rank()) return false;
  for (size_t i = 0; i < recorded.rank(); ++i)
    if (!dims_compatible(recorded.dims[i], inferred.dims[i])) return false;
  return true;
}

std::string value_ref(const Value* v) { return "'" + v->name + "'"; }

class Verifier {
 public:
  explicit Verifier(const Graph& g) : g_(g) {}
  void run();

 private:
  // The value must belong to this graph (not a dangling pointer from another one).
  void check_owned(const Value* v, const std::string& where) const {
    FC_CHECK(g_.find_value(v->name) == v, where, ": value ", value_ref(v), " does not belong to graph '", g_.name, "'");
  }
  void define(const Value* v, const std::string& where) {
    FC_CHECK(defined_.insert(v).second, where, ": value ", value_ref(v), " is defined more than once");
  }
  void verify_node(const Node& n);

  const Graph& g_;
  std::unordered_set<const Value*> defined_;
  std::unordered_map<const Value*, const Tensor*> known_values_;  // params and Constant outputs
};

void Verifier::verify_node(const Node& n) {
  const std::string where = n.describe();
  const OpSchema* schema = OpRegistry::global().find(n.op, n.domain);
  FC_CHECK(schema, where, ": unknown op '", n.domain.empty() ? "" : n.domain + ".", n.op, "' (not in the op registry)");
  std::vector<TensorType> in_types;
  std::vector<const Tensor*> in_values;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Value* v = n.inputs[i];
    if (!v) {
      in_types.emplace_back();
      in_values.push_back(nullptr);
      continue;
    }
    check_owned(v, where);
    if (!defined_.count(v)) {
      if (v->producer)
        fail(where, ": input ", i, " ", value_ref(v), " is used before it is defined by ", v->producer->describe(),
             " (nodes are not in topological order)");
      fail(where, ": input ", i, " ", value_ref(v), " is not a graph input, parameter or node output");
    }
    in_types.push_back(v->type);
    auto it = known_values_.find(v);
    in_values.push_back(it == known_values_.end() ? nullptr : it->second);
  }
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const Value* o = n.outputs[i];
    FC_CHECK(o, where, ": output ", i, " is null");
    check_owned(o, where);
    FC_CHECK(o->producer == &n && o->producer_output == static_cast<int>(i), where, ": output ", i, " ", value_ref(o),
             " does not record this node as its producer");
    define(o, where);
  }
  // Counts, required inputs, attribute kinds and the shape function itself.
  std::vector<TensorType> inferred;
  try {
    inferred = infer_output_types(n, in_types, in_values);
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.find(where) == std::string::npos) fail(where, ": ", msg);
    throw;
  } catch (const std::exception& e) {  // e.g. std::out_of_range from a shape function's .at()
    fail(where, ": shape inference failed: ", e.what());
  }
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const Value* o = n.outputs[i];
    FC_CHECK(o->type.dtype != DType::Undefined, where, ": output ", value_ref(o), " has no type (was ",
             "shape inference run?)");
    FC_CHECK(types_compatible(o->type, inferred[i]), where, ": output ", value_ref(o), " is recorded as ",
             to_string(o->type), " but the op infers ", to_string(inferred[i]));
  }
  if (n.domain.empty() && n.op == "Constant" && n.outputs.size() == 1) {
    auto it = n.attrs.find("value");
    if (it != n.attrs.end())
      if (const Tensor* t = std::get_if<Tensor>(&it->second)) known_values_[n.outputs[0]] = t;
  }
}

void Verifier::run() {
  const std::string gname = "graph '" + g_.name + "'";
  for (const Value* v : g_.inputs) {
    FC_CHECK(v, gname, ": null graph input");
    check_owned(v, gname);
    FC_CHECK(!v->producer, gname, ": input ", value_ref(v), " is also produced by ", v->producer->describe());
    FC_CHECK(!g_.is_param(v), gname, ": input ", value_ref(v), " is also a parameter");
    define(v, gname + " input");
  }
  for (const Value* p : g_.param_order()) {
    check_owned(p, gname);
    FC_CHECK(!p->producer, gname, ": parameter ", value_ref(p), " is also produced by ", p->producer->describe());
    const Tensor& t = g_.param(p);
    FC_CHECK(p->type == t.type(), gname, ": parameter ", value_ref(p), " has type ", to_string(p->type),
             " but its tensor is ", to_string(t.type()));
    define(p, gname + " parameter");
    known_values_[p] = &t;
  }
  std::unordered_set<std::string> node_names;
  for (const auto& n : g_.nodes()) {
    FC_CHECK(node_names.insert(n->name).second, n->describe(), ": another node has the same name");
    verify_node(*n);
  }
  for (size_t i = 0; i < g_.outputs.size(); ++i) {
    const Value* v = g_.outputs[i];
    FC_CHECK(v, gname, ": output ", i, " is null");
    check_owned(v, gname);
    FC_CHECK(defined_.count(v), gname, ": output ", value_ref(v), " is never defined");
  }
  // State updates and gradient accumulations both bind a parameter to a value computed for it.
  auto check_binding = [&](const char* what, const Value* param, const Value* v) {
    FC_CHECK(param && v, gname, ": null value in a ", what);
    FC_CHECK(g_.is_param(param), gname, ": ", what, " of ", value_ref(param), ", which is not a parameter");
    FC_CHECK(defined_.count(v), gname, ": ", what, " of ", value_ref(param), " reads ", value_ref(v),
             ", which is never defined");
    FC_CHECK(types_compatible(v->type, param->type), gname, ": ", what, " of ", value_ref(param), " (",
             to_string(param->type), ") from ", value_ref(v), " of type ", to_string(v->type));
  };
  for (const auto& [state, next] : g_.state_updates) check_binding("state update", state, next);
  for (const auto& [acc, sum] : g_.accumulations) check_binding("accumulation", acc, sum);
}

}  // namespace

void verify(const Graph& g) { Verifier(g).run(); }

}  // namespace fc::ir
