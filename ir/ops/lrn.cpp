// LRN (ONNX semantics), x: [N, C, D1..Dk] -> y of the same shape:
//   square_sum[n, c, d] = sum of x[n, i, d]^2 for i in [c - floor((size-1)/2), c + ceil((size-1)/2)]
//                         (clipped to [0, C-1])
//   y = x / (bias + alpha / size * square_sum) ^ beta
#include "ir/op_helpers.h"

namespace fc::ir {
namespace {

std::vector<TensorType> infer_lrn(const InferContext& ctx) {
  const Node& node = ctx.node;
  const TensorType& x = ctx.in(0);
  FC_CHECK(x.dtype == DType::F32, node.describe(), ": only f32 is supported");
  FC_CHECK(x.rank() >= 2, node.describe(), ": input must be [N, C, ...], is ", to_string(x));
  FC_CHECK(node.attr_int("size") >= 1, node.describe(), ": size must be >= 1");
  return {x};
}

// Per element: `size` multiply-adds for the window, then the scale, power and division.
OpCost lrn_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  const double n = double(outs[0].numel());
  return {n * (2.0 * double(ctx.node.attr_int("size")) + 4.0), 8.0 * n};
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "LRN",
    .since_opset = 1,
    .attrs = {{"alpha", AttrKind::Float, Attribute(1e-4f)},
              {"beta", AttrKind::Float, Attribute(0.75f)},
              {"bias", AttrKind::Float, Attribute(1.0f)},
              {"size", AttrKind::Int, std::nullopt, /*required=*/true}},
    .infer = infer_lrn,
    .cost = lrn_cost,
    .doc = "local response normalisation across channels",
});

}  // namespace fc::ir
