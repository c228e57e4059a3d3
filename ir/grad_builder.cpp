#include "ir/grad_builder.h"

#include "ir/error.h"
#include "ir/op_registry.h"

namespace fc::ir {

GradBuilder::GradBuilder(Graph& g, const Node& forward, std::vector<Value*> output_grads,
                         std::vector<bool> needs_input_grad)
    : g_(g), forward_(forward), dys_(std::move(output_grads)), needs_(std::move(needs_input_grad)) {}

std::vector<Value*> GradBuilder::emit(const std::string& op, std::vector<Value*> inputs,
                                      std::map<std::string, Attribute> attrs, int num_outputs,
                                      const std::string& domain) {
  std::vector<Value*> outs;
  const std::string base = forward_.name + "/grad/" + op;
  for (int i = 0; i < num_outputs; ++i) outs.push_back(g_.add_value(g_.unique_name(base), {}));
  Node* n = g_.add_node(op, inputs, outs, std::move(attrs), g_.unique_node_name(base));
  n->domain = domain;
  std::vector<TensorType> in_types;
  std::vector<const Tensor*> values;
  for (Value* v : inputs) {
    in_types.push_back(v ? v->type : TensorType{});
    values.push_back(v && g_.is_param(v) ? &g_.param(v) : nullptr);
  }
  std::vector<TensorType> out_types = infer_output_types(*n, in_types, values);
  for (int i = 0; i < num_outputs; ++i) outs[i]->type = out_types[i];
  return outs;
}

Value* GradBuilder::constant(const Tensor& t, const std::string& hint) {
  return emit1("Constant", {}, {{"value", t}}, "");
  (void)hint;
}

Value* GradBuilder::reduce_to_shape_of(Value* grad, Value* like) {
  if (grad->type == like->type) return grad;
  return emit1("SumToShapeOf", {grad, like}, {}, "fc");
}

}  // namespace fc::ir
