// LayerNormalization (opset 17): X is normalised over its dims [axis, rank) (axis = -1, may be
// negative): Y = (X - mean) / sqrt(var + epsilon) * Scale + B, with Scale and optional B
// broadcastable to X.shape[axis:]. Optional outputs Mean and InvStdDev have X.shape[:axis] followed
// by 1s (stash_type = 1: f32, the only type supported). Kernel: runtime/cpu/kernels/layer_norm.cpp.
//
// Gradient: one backward op (kernel: runtime/cpu/kernels/layer_norm_grad.cpp),
//   fc.LayerNormalizationGrad(dY, X, Scale [, Mean, InvStdDev [, dMean, dInvStdDev]]) {axis, epsilon}
//     -> dX [, dScale [, dB]]   (dScale, dB over the normalised dims X.shape[axis:])
// with xhat = (X - mean) * invstd, g = dY * Scale, per row of D normalised elements:
//   dX = invstd * (g - mean(g) - xhat * mean(g * xhat)) + dMean / D - dInvStdDev * invstd^2 * xhat / D
//   dScale = sum over rows of dY * xhat,  dB = sum over rows of dY
// Mean/InvStdDev are the forward's outputs when it has them (as PyTorch saves them), else recomputed;
// gradients flowing into those outputs are supported too. The rule sums dScale/dB back to the
// shapes of Scale/B when those were broadcast.
#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/shape_util.h"

namespace fc::ir {
namespace {

std::vector<TensorType> layer_norm_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  const std::string what = ctx.node.describe();
  FC_CHECK(x.dtype == DType::F32, what, ": X must be f32, got ", dtype_name(x.dtype));
  FC_CHECK(ctx.node.attr_int("stash_type") == 1, what, ": only stash_type = 1 (f32) is supported");
  const int64_t rank = static_cast<int64_t>(x.rank());
  FC_CHECK(rank >= 1, what, ": X must have rank >= 1");
  const int64_t axis = normalize_axis(ctx.node.attr_int("axis"), rank, what);
  const std::vector<Dim> norm(x.dims.begin() + axis, x.dims.end());
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    const TensorType& p = ctx.in(i);
    const char* name = i == 1 ? "Scale" : "B";
    FC_CHECK(p.dtype == DType::F32, what, ": ", name, " must be f32, got ", dtype_name(p.dtype));
    // Unidirectional: broadcasting the parameter must not grow the normalised shape.
    FC_CHECK(p.rank() <= norm.size() && broadcast_dims(norm, p.dims, what) == norm, what, ": ", name, " ",
             to_string(p), " does not broadcast to the normalised shape of X ", to_string(x));
  }
  std::vector<Dim> stat(x.dims.begin(), x.dims.begin() + axis);
  stat.resize(x.rank(), Dim::known(1));
  const TensorType s(DType::F32, stat);
  return {x, s, s};
}

FC_REGISTER_OP(OpSchema{
    .name = "LayerNormalization",
    .onnx_versions = {17},
    .min_inputs = 2,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 3,
    .attrs = {{"axis", AttrKind::Int, Attribute{int64_t{-1}}},
              {"epsilon", AttrKind::Float, Attribute{1e-5f}},
              {"stash_type", AttrKind::Int, Attribute{int64_t{1}}}},
    .infer = layer_norm_infer,
    .cost = elementwise_cost(8),  // mean, centred square, variance, scale, shift
    .doc = "layer normalisation over the trailing dims from axis",
    .gradient = [](GradBuilder& b) -> std::vector<Value*> {
      const Node& n = b.node();
      FC_CHECK(b.dy(0), n.describe(), ": a gradient flows into Mean/InvStdDev but not into Y; unsupported");
      const bool saved = n.outputs.size() > 2 && b.y(1) && b.y(2);
      std::vector<Value*> ins{b.dy(0), b.x(0), b.x(1)};
      if (saved || b.dy(1) || b.dy(2)) {
        ins.push_back(saved ? b.y(1) : nullptr);
        ins.push_back(saved ? b.y(2) : nullptr);
      }
      if (b.dy(1) || b.dy(2)) {
        ins.push_back(b.dy(1));
        ins.push_back(b.dy(2));
      }
      while (!ins.back()) ins.pop_back();  // trailing omitted inputs are left out
      const int outs = b.needs(2) ? 3 : b.needs(1) ? 2 : 1;
      std::vector<Value*> d = b.emit("LayerNormalizationGrad", ins,
                                     {{"axis", n.attr_int("axis")}, {"epsilon", n.attr_float("epsilon")}}, outs, "fc");
      std::vector<Value*> r{d[0], nullptr, nullptr};
      if (b.needs(1)) r[1] = b.reduce_to_shape_of(d[1], b.x(1));
      if (b.needs(2)) r[2] = b.reduce_to_shape_of(d[2], b.x(2));
      return r;
    },
});

FC_REGISTER_OP(OpSchema{
    .name = "LayerNormalizationGrad",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 7,
    .min_outputs = 1,
    .max_outputs = 3,
    .attrs = {{"axis", AttrKind::Int, Attribute{int64_t{-1}}}, {"epsilon", AttrKind::Float, Attribute{1e-5f}}},
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      const TensorType& x = ctx.in(1);
      FC_CHECK(ctx.in(0).dtype == DType::F32 && ctx.in(0).rank() == x.rank(), ctx.node.describe(), ": dY ",
               to_string(ctx.in(0)), " does not match X ", to_string(x));
      const int64_t axis =
          normalize_axis(ctx.node.attr_int("axis"), static_cast<int64_t>(x.rank()), ctx.node.describe());
      const TensorType norm(DType::F32, std::vector<Dim>(x.dims.begin() + axis, x.dims.end()));
      return {x, norm, norm};
    },
    .cost = elementwise_cost(10),
    .doc = "gradient of LayerNormalization with respect to X, Scale and B",
});

}  // namespace
}  // namespace fc::ir
