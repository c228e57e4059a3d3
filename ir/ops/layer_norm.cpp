// LayerNormalization (opset 17): X is normalised over its dims [axis, rank) (axis = -1, may be
// negative): Y = (X - mean) / sqrt(var + epsilon) * Scale + B, with Scale and optional B
// broadcastable to X.shape[axis:]. Optional outputs Mean and InvStdDev have X.shape[:axis] followed
// by 1s (stash_type = 1: f32, the only type supported). Kernel: runtime/cpu/kernels/layer_norm.cpp.
#include "ir/error.h"
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
    .since_opset = 17,
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
});

}  // namespace
}  // namespace fc::ir
