#include "ir/op_registry.h"

#include <algorithm>

#include "support/error.h"

namespace fc::ir {

const TensorType& InferContext::in(size_t i) const {
  FC_CHECK(has_input(i), node.describe(), ": input ", i, " is required");
  return inputs[i];
}

OpRegistry& OpRegistry::global() {
  static OpRegistry registry;
  return registry;
}

int OpSchema::onnx_version_at(int opset) const {
  int v = 0;
  for (int since : onnx_versions)
    if (since <= opset) v = since;
  return v;
}

void OpRegistry::add(OpSchema schema, const char* where) {
  // The path from the source tree's root: compilers pass it as given (absolute under CMake).
  const std::string_view file = where;
  const size_t root = file.rfind("ir/ops/");
  schema.defined_in = std::string(root == std::string_view::npos ? file : file.substr(root));
  auto key = std::make_pair(schema.domain, schema.name);
  FC_ASSERT(!schemas_.count(key));
  FC_ASSERT(schema.infer);
  FC_ASSERT(std::is_sorted(schema.onnx_versions.begin(), schema.onnx_versions.end()));
  FC_ASSERT(schema.onnx_versions.empty() || schema.onnx_versions.back() <= kNewestOnnxOpset);
  schemas_.emplace(key, std::move(schema));
}

const OpSchema* OpRegistry::find(std::string_view op, std::string_view domain) const {
  auto it = schemas_.find(std::make_pair(std::string(domain), std::string(op)));
  return it == schemas_.end() ? nullptr : &it->second;
}

std::vector<const OpSchema*> OpRegistry::all() const {
  std::vector<const OpSchema*> r;
  for (const auto& [k, s] : schemas_) r.push_back(&s);
  return r;
}

OpKind op_kind(const Node& n) {
  if (n.domain == "fc" && n.op == "HorizontalFused" && n.has_attr("ops")) {
    // `ops` names the repeated op as "domain.op" (or "op" for ONNX's).
    const auto* ops = std::get_if<std::vector<std::string>>(&n.attr("ops"));
    if (!ops || ops->empty()) return OpKind::Compute;
    const std::string& full = ops->front();
    const size_t dot = full.find('.');
    const OpSchema* s = dot == std::string::npos ? OpRegistry::global().find(full)
                                                 : OpRegistry::global().find(full.substr(dot + 1), full.substr(0, dot));
    return s ? s->kind : OpKind::Compute;
  }
  const OpSchema* s = OpRegistry::global().find(n.op, n.domain);
  return s ? s->kind : OpKind::Compute;
}

Value*& update_gradient(Node& n) {
  FC_CHECK(op_kind(n) == OpKind::OptimizerUpdate && n.inputs.size() > kUpdateGradientInput, n.describe(),
           ": not an optimizer update");
  return n.inputs[kUpdateGradientInput];
}

namespace {
const OpSchema& schema_for(const Node& node) {
  const OpSchema* s = OpRegistry::global().find(node.op, node.domain);
  FC_CHECK(s, node.describe(), ": unsupported op '", node.op, "'");
  return *s;
}
}  // namespace

std::vector<TensorType> infer_output_types(const Node& node, const std::vector<TensorType>& inputs,
                                           const std::vector<const Tensor*>& values) {
  const OpSchema& s = schema_for(node);
  int n_in = static_cast<int>(inputs.size());
  FC_CHECK(n_in >= s.min_inputs && n_in <= s.max_inputs, node.describe(), ": takes ", s.min_inputs, "..",
           s.max_inputs, " inputs, got ", n_in);
  for (int i = 0; i < s.min_inputs; ++i)
    FC_CHECK(inputs[i].dtype != DType::Undefined, node.describe(), ": input ", i, " is required");
  for (const AttrSpec& a : s.attrs)
    if (a.required) FC_CHECK(node.has_attr(a.name), node.describe(), ": missing required attribute '", a.name, "'");
  for (const auto& [k, v] : node.attrs) {
    const AttrSpec* spec = nullptr;
    for (const AttrSpec& a : s.attrs)
      if (a.name == k) spec = &a;
    if (spec && spec->kind != attr_kind(v) && !(spec->kind == AttrKind::Float && attr_kind(v) == AttrKind::Int))
      fail(node.describe(), ": attribute '", k, "' should be ", attr_kind_name(spec->kind), ", is ",
           attr_kind_name(attr_kind(v)));
  }
  InferContext ctx{node, inputs, values};
  ctx.values.resize(inputs.size(), nullptr);
  std::vector<TensorType> out = s.infer(ctx);
  int n_out = static_cast<int>(node.outputs.size());
  FC_CHECK(n_out >= s.min_outputs && n_out <= s.max_outputs, node.describe(), ": has ", n_out,
           " outputs, op allows ", s.min_outputs, "..", s.max_outputs);
  FC_ASSERT(out.size() >= node.outputs.size());
  out.resize(node.outputs.size());
  return out;
}

OpCost op_cost(const Node& node, const std::vector<TensorType>& inputs, const std::vector<const Tensor*>& values,
               const std::vector<TensorType>& outputs) {
  const OpSchema& s = schema_for(node);
  InferContext ctx{node, inputs, values};
  ctx.values.resize(inputs.size(), nullptr);
  if (s.cost) return s.cost(ctx, outputs);
  OpCost c;
  for (const TensorType& t : inputs)
    if (t.dtype != DType::Undefined && t.is_concrete()) c.bytes += double(t.numel()) * dtype_size(t.dtype);
  for (const TensorType& t : outputs)
    if (t.is_concrete()) {
      c.bytes += double(t.numel()) * dtype_size(t.dtype);
      c.flops += double(t.numel());
    }
  return c;
}

namespace {

// The value of `v` where the graph fixes it: a parameter's, or a Constant node's attribute (shape
// functions such as Range's and Reshape's need these to know their output dims).
const Tensor* known_value(const Graph& g, const Value* v) {
  if (!v) return nullptr;
  if (g.is_param(v)) return &g.param(v);
  const Node* p = v->producer;
  if (p && p->domain.empty() && p->op == "Constant" && p->outputs.size() == 1 && p->has_attr("value"))
    return &p->attr_tensor("value");
  return nullptr;
}

}  // namespace

void infer_node_types(const Graph& g, Node& n) {
  std::vector<TensorType> ins;
  std::vector<const Tensor*> vals;
  for (Value* v : n.inputs) {
    ins.push_back(v ? v->type : TensorType{});
    vals.push_back(known_value(g, v));
  }
  std::vector<TensorType> outs = infer_output_types(n, ins, vals);
  for (size_t i = 0; i < n.outputs.size(); ++i) n.outputs[i]->type = outs[i];
}

void infer_graph_types(Graph& g) {
  for (const auto& n : g.nodes()) infer_node_types(g, *n);
}

Node* add_node_inferred(Graph& g, const std::string& op, const std::string& domain, std::vector<Value*> inputs,
                        std::vector<Value*> outputs, std::map<std::string, Attribute> attrs, const std::string& name) {
  Node* n = g.add_node(op, std::move(inputs), std::move(outputs), std::move(attrs), g.unique_node_name(name));
  n->domain = domain;
  infer_node_types(g, *n);
  return n;
}

}  // namespace fc::ir
