// LRN (ONNX semantics), x: [N, C, D1..Dk] -> y of the same shape:
//   square_sum[n, c, d] = sum of x[n, i, d]^2 for i in [c - floor((size-1)/2), c + ceil((size-1)/2)]
//                         (clipped to [0, C-1])
//   y = x / (bias + alpha / size * square_sum) ^ beta
// Gradient: fc.LRNGrad(dy, x) -> dx with the same attributes; with s = bias + alpha/size * square_sum,
//   dx[i] = dy[i] * s[i]^-beta - 2 * alpha * beta / size * x[i] * sum over channels c whose window
//           holds i of dy[c] * x[c] * s[c]^(-beta-1)
#include "ir/grad_builder.h"
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

const std::vector<AttrSpec> kLrnAttrs = {{"alpha", AttrKind::Float, Attribute(1e-4f)},
                                         {"beta", AttrKind::Float, Attribute(0.75f)},
                                         {"bias", AttrKind::Float, Attribute(1.0f)},
                                         {"size", AttrKind::Int, std::nullopt, /*required=*/true}};

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "LRN",
    .onnx_versions = {1, 13},
    .attrs = kLrnAttrs,
    .infer = infer_lrn,
    .cost = lrn_cost,
    .doc = "local response normalisation across channels",
    .gradient = [](GradBuilder& b) -> std::vector<Value*> {
      return {b.emit1("LRNGrad", {b.dy(0), b.x(0)}, b.node().attrs, "fc")};
    },
});

FC_REGISTER_OP(OpSchema{
    .name = "LRNGrad",
    .domain = "fc",
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = kLrnAttrs,
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      InferContext fwd{ctx.node, {ctx.in(1)}, {nullptr}};
      const TensorType x = infer_lrn(fwd)[0];
      FC_CHECK(ctx.in(0).dtype == DType::F32 && ctx.in(0).rank() == x.rank(), ctx.node.describe(),
               ": output gradient ", to_string(ctx.in(0)), " does not match the input ", to_string(x));
      return {x};
    },
    // The forward's window sums and power, then a second window sum.
    .cost = [](const InferContext& ctx, const std::vector<TensorType>& outs) {
      const double n = double(outs[0].numel());
      return OpCost{n * (4.0 * double(ctx.node.attr_int("size")) + 10.0), 12.0 * n};
    },
    .doc = "gradient of LRN: (dy, x) -> dx",
});

}  // namespace fc::ir
