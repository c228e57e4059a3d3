#include "ir/grad_builder.h"

#include "support/error.h"
#include "ir/op_registry.h"

namespace fc::ir {

GradBuilder::GradBuilder(Graph& g, Node& forward, std::vector<Value*> output_grads,
                         std::vector<bool> needs_input_grad)
    : g_(g), forward_(forward), dys_(std::move(output_grads)), needs_(std::move(needs_input_grad)) {}

std::vector<Value*> GradBuilder::emit(const std::string& op, std::vector<Value*> inputs,
                                      std::map<std::string, Attribute> attrs, int num_outputs,
                                      const std::string& domain) {
  std::vector<Value*> outs;
  const std::string base = forward_.name + "/grad/" + op;
  for (int i = 0; i < num_outputs; ++i) outs.push_back(g_.add_value(g_.unique_name(base), {}));
  add_node_inferred(g_, op, domain, std::move(inputs), outs, std::move(attrs), base)->gradient_of = &forward_;
  return outs;
}

Value* GradBuilder::constant(const Tensor& t, const std::string& hint) {
  return emit1("Constant", {}, {{"value", t}}, "");
  (void)hint;
}

void GradBuilder::offer_saved_output(const Value* grad_value, std::string training_op, std::string domain,
                                     size_t output, std::string name) {
  FC_ASSERT(grad_value->producer && grad_value->producer->gradient_of == &forward_);
  FC_ASSERT(output == forward_.outputs.size());
  offers_.push_back({forward_.name, grad_value->producer->name, std::move(training_op), std::move(domain), output,
                     std::move(name)});
}

Value* GradBuilder::reduce_to_shape_of(Value* grad, Value* like) {
  if (grad->type == like->type) return grad;
  return emit1("SumToShapeOf", {grad, like}, {}, "fc");
}

}  // namespace fc::ir
