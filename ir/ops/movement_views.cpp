// Shape-only ops whose CPU kernels return views sharing the input's storage
// (runtime/cpu/kernels/movement_views.cpp): Reshape, Flatten, Squeeze, Unsqueeze, Identity and
// inference-mode Dropout. Their shape functions keep symbolic dims where the result is provably
// that symbol (Reshape [N,512,1,1] by [0,-1] is [N,512]; Flatten of [N,C,H,W] is [N,C*H*W]).
#include <algorithm>
#include <string>
#include <vector>

#include "support/error.h"
#include "ir/op_helpers.h"
#include "ir/ops/movement.h"

namespace fc::ir {
namespace {

// Reshape: `shape` entries are sizes, 0 (copy the input dim at that position) or one -1 (inferred).
// Copied dims cancel against the input dim they copy, so symbols only need to match by position.
// With allowzero=1 (ONNX opset 14) a 0 is a size of 0 instead, and then no -1 may appear.
std::vector<TensorType> reshape_infer(const InferContext& ctx) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.in(0);
  const bool allowzero = n.has_attr("allowzero") && n.attr_int("allowzero") != 0;
  const std::vector<int64_t>& shape = n.attr_ints("shape");
  if (allowzero && std::find(shape.begin(), shape.end(), 0) != shape.end())
    FC_CHECK(std::find(shape.begin(), shape.end(), -1) == shape.end(), n.describe(),
             ": allowzero=1 with both a 0 and a -1 in shape (ONNX: invalid)");
  std::vector<Dim> out(shape.size());
  std::vector<bool> cancelled(x.rank(), false);
  int64_t out_known = 1;  // product of the known output dims other than the -1
  int infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t v = shape[i];
    if (v == 0 && allowzero) {
      out[i] = Dim::known(0);
      out_known = 0;
    } else if (v == 0) {
      FC_CHECK(i < x.rank(), n.describe(), ": shape[", i, "] = 0 copies a dim the rank-", x.rank(), " input lacks");
      out[i] = x.dims[i];
      if (out[i].is_known()) out_known *= out[i].size;
      else cancelled[i] = true;
    } else if (v == -1) {
      FC_CHECK(infer_at < 0, n.describe(), ": shape has more than one -1");
      infer_at = static_cast<int>(i);
    } else {
      FC_CHECK(v > 0, n.describe(), ": invalid shape entry ", v);
      out[i] = Dim::known(v);
      out_known *= v;
    }
  }
  // What remains of the input after cancelling the copied open dims: a known product and open dims.
  int64_t in_known = 1;
  std::vector<const Dim*> in_open;
  for (size_t i = 0; i < x.rank(); ++i) {
    if (cancelled[i]) continue;
    if (x.dims[i].is_known()) in_known *= x.dims[i].size;
    else in_open.push_back(&x.dims[i]);
  }
  if (infer_at >= 0) {
    Dim d = Dim::unknown();
    if (in_open.empty() || in_known == 0) {
      FC_CHECK(out_known != 0, n.describe(), ": cannot infer the -1 dim of ", to_string(x), " with zero-size dims");
      FC_CHECK(in_known % out_known == 0, n.describe(), ": cannot reshape ", to_string(x), " to ", shape.size(),
               " dims whose known sizes multiply to ", out_known);
      d = Dim::known(in_known / out_known);
    } else if (in_open.size() == 1 && in_known == out_known) {
      d = *in_open[0];  // the one remaining open dim moves over unchanged
    }
    out[infer_at] = d;
  } else if (in_open.empty()) {
    FC_CHECK(in_known == out_known, n.describe(), ": cannot reshape ", to_string(x), " (", in_known,
             " elements) to a shape with ", out_known);
  }
  return {TensorType(x.dtype, out)};
}

std::vector<TensorType> flatten_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  const int64_t r = static_cast<int64_t>(x.rank());
  int64_t axis = ctx.node.attr_int("axis");
  FC_CHECK(axis >= -r && axis <= r, ctx.node.describe(), ": axis ", axis, " out of range for rank ", r);
  if (axis < 0) axis += r;
  return {TensorType(x.dtype, {dim_product(x.dims, 0, axis), dim_product(x.dims, axis, r)})};
}

// Without `axes`, every dim known to be 1 goes; symbolic dims are kept (a batch of 1 at run time is
// then squeezed too, as ONNX specifies).
std::vector<TensorType> squeeze_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  const int64_t r = static_cast<int64_t>(x.rank());
  std::vector<bool> drop(r, false);
  if (ctx.node.has_attr("axes")) {
    for (int64_t a : ctx.node.attr_ints("axes")) {
      const int64_t k = normalize_axis(a, r, ctx.node.describe());
      FC_CHECK(!drop[k], ctx.node.describe(), ": axis ", a, " is listed twice");
      FC_CHECK(!x.dims[k].is_known() || x.dims[k].size == 1, ctx.node.describe(), ": cannot squeeze axis ", a,
               " of ", to_string(x), " (size is not 1)");
      drop[k] = true;
    }
  } else {
    for (int64_t k = 0; k < r; ++k) drop[k] = x.dims[k].is_known() && x.dims[k].size == 1;
  }
  std::vector<Dim> out;
  for (int64_t k = 0; k < r; ++k)
    if (!drop[k]) out.push_back(x.dims[k]);
  return {TensorType(x.dtype, out)};
}

// Axes are positions in the output (negative ones count from the output's end).
std::vector<TensorType> unsqueeze_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  const std::vector<int64_t>& axes = ctx.node.attr_ints("axes");
  const int64_t r = static_cast<int64_t>(x.rank() + axes.size());
  std::vector<bool> added(r, false);
  for (int64_t a : axes) {
    const int64_t k = normalize_axis(a, r, ctx.node.describe());
    FC_CHECK(!added[k], ctx.node.describe(), ": axis ", a, " is listed twice");
    added[k] = true;
  }
  std::vector<Dim> out;
  size_t next = 0;
  for (int64_t k = 0; k < r; ++k) out.push_back(added[k] ? Dim::known(1) : x.dims[next++]);
  return {TensorType(x.dtype, out)};
}

std::vector<TensorType> dropout_infer(const InferContext& ctx) {
  const float ratio = ctx.node.attr_float("ratio");
  FC_CHECK(ratio >= 0.0f && ratio < 1.0f, ctx.node.describe(), ": ratio ", ratio, " must be in [0, 1)");
  const TensorType& x = ctx.in(0);
  return {x, TensorType(DType::Bool, x.dims)};
}

// The gradient of every view is the output gradient viewed with the input's shape.
std::vector<Value*> view_gradient(GradBuilder& b) { return {reshape_like(b, b.dy(0), b.x(0))}; }

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "Reshape",
    .onnx_versions = {1, 5, 13, 14, 19, 21},
    .attrs = {{"shape", AttrKind::Ints, std::nullopt, true}, {"allowzero", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = reshape_infer,
    .cost = view_cost,
    .doc = "view with a new shape (0 copies an input dim, -1 is inferred)",
    .gradient = view_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Flatten",
    .onnx_versions = {1, 9, 11, 13, 21},
    .attrs = {{"axis", AttrKind::Int, Attribute{int64_t{1}}}},
    .infer = flatten_infer,
    .cost = view_cost,
    .doc = "view as 2-D: [prod(dims[:axis]), prod(dims[axis:])]",
    .gradient = view_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Squeeze",
    .onnx_versions = {1, 11, 13, 21},
    .attrs = {{"axes", AttrKind::Ints, std::nullopt}},
    .infer = squeeze_infer,
    .cost = view_cost,
    .doc = "view without size-1 dims (axes, or all of them)",
    .gradient = view_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Unsqueeze",
    .onnx_versions = {1, 11, 13, 21},
    .attrs = {{"axes", AttrKind::Ints, std::nullopt, true}},
    .infer = unsqueeze_infer,
    .cost = view_cost,
    .doc = "view with size-1 dims inserted at output positions axes",
    .gradient = view_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Identity",
    .onnx_versions = {1, 13, 14, 16, 19, 21},
    .infer = same_as_input0,
    .cost = view_cost,
    .doc = "y = x (a view)",
    .gradient = view_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Dropout",
    .onnx_versions = {1, 6, 7, 10, 12, 13},
    .max_outputs = 2,
    .attrs = {{"ratio", AttrKind::Float, Attribute{0.5f}},
              {"training_mode", AttrKind::Int, Attribute{int64_t{0}}},
              {"seed", AttrKind::Int, std::nullopt}},
    .infer = dropout_infer,
    .cost = view_cost,
    .doc = "training_mode=0: y = x (a view), mask all true; 1: drops (fcrun infer; training graphs use fc.DropoutTraining)",
    .gradient = view_gradient,
    .training_form = TrainingForm{.onnx_mode_input = 2},  // from opset 12 the mode is input 2
});

}  // namespace fc::ir
