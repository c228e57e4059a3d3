// Softmax / LogSoftmax (opset-13 semantics: normalise along one axis, `axis` = -1; the frontend
// rewrites older "flatten to 2-D" models). Output type = input type. Kernels:
// runtime/cpu/kernels/softmax.cpp.
//
// Gradients, from the output as PyTorch's _softmax_backward_data / _log_softmax_backward_data, by
// one-pass backward ops (kernels: runtime/cpu/kernels/softmax_grad.cpp):
//   fc.SoftmaxGrad(dy, y) {axis}     dx = y * (dy - sum_axis(dy * y))
//   fc.LogSoftmaxGrad(dy, y) {axis}  dx = dy - exp(y) * sum_axis(dy)
#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"

namespace fc::ir {
namespace {

std::vector<TensorType> softmax_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  FC_CHECK(x.dtype == DType::F32, ctx.node.describe(), ": input must be f32, got ", dtype_name(x.dtype));
  FC_CHECK(x.rank() >= 1, ctx.node.describe(), ": input must have rank >= 1");
  normalize_axis(ctx.node.attr_int("axis"), static_cast<int64_t>(x.rank()), ctx.node.describe());
  return {x};
}

// dy and y: f32 of the same rank.
std::vector<TensorType> softmax_grad_infer(const InferContext& ctx) {
  FC_CHECK(ctx.in(0).dtype == DType::F32 && ctx.in(0).rank() == ctx.in(1).rank(), ctx.node.describe(), ": dy ",
           to_string(ctx.in(0)), " does not match y ", to_string(ctx.in(1)));
  return softmax_infer(InferContext{ctx.node, {ctx.in(1)}, {nullptr}});
}

GradFn softmax_grad(const char* grad_op) {
  return [=](GradBuilder& b) -> std::vector<Value*> {
    return {b.emit1(grad_op, {b.dy(0), b.y(0)}, {{"axis", b.node().attr_int("axis")}}, "fc")};
  };
}

[[maybe_unused]] const bool registered = [] {
  struct Def {
    const char* name;
    const char* doc;
    const char* grad_op;
  };
  const Def ops[] = {
      {"Softmax", "exp(x - max) / sum(exp(x - max)) along axis", "SoftmaxGrad"},
      {"LogSoftmax", "x - max - log(sum(exp(x - max))) along axis", "LogSoftmaxGrad"},
  };
  for (const Def& d : ops) {
    const std::vector<AttrSpec> attrs{{"axis", AttrKind::Int, Attribute{int64_t{-1}}}};
    OpRegistry::global().add(OpSchema{
        .name = d.name,
        .onnx_versions = {1, 11, 13},  // older forms are rewritten to opset-13 semantics by the frontend
        .attrs = attrs,
        .infer = softmax_infer,
        .cost = elementwise_cost(5),  // max, subtract, exp, sum, scale
        .doc = d.doc,
        .gradient = softmax_grad(d.grad_op),
    });
    OpRegistry::global().add(OpSchema{
        .name = d.grad_op,
        .domain = "fc",
        .min_inputs = 2,
        .max_inputs = 2,
        .attrs = attrs,
        .infer = softmax_grad_infer,
        .cost = elementwise_cost(4),  // product, sum, subtract, scale
        .doc = std::string("gradient of ") + d.name + " from its output",
    });
  }
  return true;
}();

}  // namespace
}  // namespace fc::ir
