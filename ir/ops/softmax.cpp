// Softmax / LogSoftmax (opset-13 semantics: normalise along one axis, `axis` = -1; the frontend
// rewrites older "flatten to 2-D" models). Output type = input type. Kernels:
// runtime/cpu/kernels/softmax.cpp.
#include "ir/error.h"
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

[[maybe_unused]] const bool registered = [] {
  const std::pair<const char*, const char*> ops[] = {
      {"Softmax", "exp(x - max) / sum(exp(x - max)) along axis"},
      {"LogSoftmax", "x - max - log(sum(exp(x - max))) along axis"},
  };
  for (const auto& [name, doc] : ops)
    OpRegistry::global().add(OpSchema{
        .name = name,
        .since_opset = 1,  // older forms are rewritten to opset-13 semantics by the frontend
        .attrs = {{"axis", AttrKind::Int, Attribute{int64_t{-1}}}},
        .infer = softmax_infer,
        .cost = elementwise_cost(5),  // max, subtract, exp, sum, scale
        .doc = doc,
    });
  return true;
}();

}  // namespace
}  // namespace fc::ir
