// Fused scaled dot-product attention, made by passes/attention_fusion.h from the subgraph PyTorch
// exports (MatMul(q, kt) -> Mul/Div by a constant -> Where/Add mask -> Softmax -> MatMul(., v)).
//
// fc.Attention(q [*, T, D], kt [*, D, S], v [*, S, E], scale f32[], mask?) {mask_keep}
//     -> y [*, T, E] = softmax(scale * q kt + bias) v,  lse f32[*, T] = log(sum_s exp(scale * q kt + bias))
//   kt is K transposed, as the exported graph holds it. The batch axes * of q, kt, v are the same.
//   mask (optional), broadcastable to [*, T, S]:
//     bool: an element is excluded (bias -inf) where mask == !mask_keep (Where(m, -inf, s): mask_keep 0;
//           Where(m, s, -inf): mask_keep 1);
//     f32:  an additive bias (Add(s, m)); -inf excludes.
//   A row with every element excluded gives NaN, as the unfused Softmax does. lse is the row's
//   log-sum-exp, saved for the backward (which recomputes the probabilities from it rather than
//   keeping a [T, S] matrix per head).
// fc.AttentionGrad(dy, q, kt, v, scale, y, lse, mask?) {mask_keep} -> (dq, dkt, dv)
//   The gradient of y (lse is not differentiable: the gradient rule refuses a gradient flowing
//   into it). With P = exp(scale * q kt + bias - lse): dv = P^T dy, dP = dy v^T,
//   dS = P * (dP - rowsum(dy * y)), dq = scale * dS kt^T, dkt = scale * q^T dS.
// The scale and the mask get no gradient: the pass only fuses a scale computed from constants and
// an f32 mask computed from constants (a bool mask has none).
// Kernels: runtime/cpu/kernels/attention.cpp (tiled, online softmax, fully excluded tiles skipped).
#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/shape_util.h"

namespace fc::ir {
namespace {

const std::vector<AttrSpec> kAttrs = {{"mask_keep", AttrKind::Int, Attribute{int64_t{0}}}};

bool same_dim(const Dim& a, const Dim& b) {
  return a.is_known() && b.is_known() ? a.size == b.size : !a.is_known() && !b.is_known() && a == b;
}

bool same_shape(const TensorType& a, const TensorType& b) {
  if (a.dtype != b.dtype || a.rank() != b.rank()) return false;
  for (size_t d = 0; d < a.rank(); ++d)
    if (!same_dim(a.dims[d], b.dims[d])) return false;
  return true;
}

// Checks q, kt, v, scale and the mask at inputs [first, first + 5); returns y's and lse's types.
std::vector<TensorType> infer_from(const InferContext& ctx, size_t first) {
  const std::string what = ctx.node.describe();
  const TensorType& q = ctx.in(first);
  const TensorType& kt = ctx.in(first + 1);
  const TensorType& v = ctx.in(first + 2);
  const TensorType& scale = ctx.in(first + 3);
  for (const TensorType* t : {&q, &kt, &v, &scale})
    FC_CHECK(t->dtype == DType::F32, what, ": q, kt, v and scale must be f32, got ", to_string(*t));
  bool scalar = true;
  for (const Dim& d : scale.dims) scalar = scalar && d.is_known() && d.size == 1;
  FC_CHECK(scalar, what, ": scale must be a scalar, got ", to_string(scale));
  const size_t r = q.rank();
  FC_CHECK(r >= 2 && kt.rank() == r && v.rank() == r, what, ": q ", to_string(q), ", kt ", to_string(kt), " and v ",
           to_string(v), " must have the same rank >= 2");
  for (size_t d = 0; d + 2 < r; ++d)
    FC_CHECK(same_dim(q.dims[d], kt.dims[d]) && same_dim(q.dims[d], v.dims[d]), what, ": batch axes of q ",
             to_string(q), ", kt ", to_string(kt), " and v ", to_string(v), " differ");
  const Dim dq = q.dims[r - 1], dk = kt.dims[r - 2], s = kt.dims[r - 1];
  FC_CHECK(same_dim(dq, dk), what, ": q ", to_string(q), " and kt ", to_string(kt), " differ in the head width");
  FC_CHECK(same_dim(v.dims[r - 2], s), what, ": v ", to_string(v), " does not have kt's ", to_string(kt),
           " key count");
  if (ctx.has_input(first + 4)) {
    const TensorType& m = ctx.in(first + 4);
    FC_CHECK(m.dtype == DType::Bool || m.dtype == DType::F32, what, ": mask must be bool or f32, got ", to_string(m));
    std::vector<Dim> scores(q.dims.begin(), q.dims.end() - 1);
    scores.push_back(s);
    FC_CHECK(m.rank() <= r && broadcast_dims(scores, m.dims, what) == scores, what, ": mask ", to_string(m),
             " does not broadcast to the scores ", to_string(TensorType(DType::F32, scores)));
  }
  std::vector<Dim> y(q.dims.begin(), q.dims.end() - 1);
  std::vector<Dim> lse = y;
  y.push_back(v.dims[r - 1]);
  return {TensorType(DType::F32, y), TensorType(DType::F32, lse)};
}

// Two [T, D] x [D, S] products and the [T, S] softmax per batch entry; the backward does four
// products and recomputes the first.
OpCost attention_cost(const InferContext& ctx, size_t first, double products) {
  const TensorType& q = ctx.in(first);
  const TensorType& kt = ctx.in(first + 1);
  const TensorType& v = ctx.in(first + 2);
  const size_t r = q.rank();
  const double batch = double(q.numel()) / double(q.dims[r - 2].size * q.dims[r - 1].size);
  const double t = double(q.dims[r - 2].size), s = double(kt.dims[r - 1].size);
  const double d = double(q.dims[r - 1].size), e = double(v.dims[r - 1].size);
  OpCost c;
  c.flops = batch * t * s * (products * (d + e) + 5);
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) c.bytes += 4.0 * double(ctx.in(i).numel());
  return c;
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "Attention",
    .domain = "fc",
    .min_inputs = 4,
    .max_inputs = 5,
    .min_outputs = 2,
    .max_outputs = 2,
    .attrs = kAttrs,
    .infer = [](const InferContext& ctx) { return infer_from(ctx, 0); },
    .cost = [](const InferContext& ctx, const std::vector<TensorType>& outs) {
      OpCost c = attention_cost(ctx, 0, 2);
      c.bytes += 4.0 * double(outs[0].numel() + outs[1].numel());
      return c;
    },
    .doc = "softmax(scale * q kt + mask) v and its row log-sum-exp, tiled (fused attention)",
    .gradient = [](GradBuilder& b) -> std::vector<Value*> {
      FC_CHECK(b.dy(1) == nullptr, b.node().describe(), ": its log-sum-exp output has no gradient");
      FC_CHECK(b.dy(0) != nullptr, b.node().describe(), ": gradient without a gradient of its output");
      std::vector<Value*> in = {b.dy(0), b.x(0), b.x(1), b.x(2), b.x(3), b.y(0), b.y(1)};
      if (b.node().input(4)) in.push_back(b.x(4));
      std::vector<Value*> d = b.emit("AttentionGrad", in, {{"mask_keep", b.node().attr_int("mask_keep")}}, 3, "fc");
      return {d[0], d[1], d[2], nullptr, nullptr};
    },
});

FC_REGISTER_OP(OpSchema{
    .name = "AttentionGrad",
    .domain = "fc",
    .min_inputs = 7,
    .max_inputs = 8,
    .min_outputs = 3,
    .max_outputs = 3,
    .attrs = kAttrs,
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      // Inputs 1-4 are the forward's q, kt, v, scale and input 7 its mask: checked as the forward's.
      InferContext fwd{ctx.node, {ctx.in(1), ctx.in(2), ctx.in(3), ctx.in(4)}, {}};
      if (ctx.has_input(7)) fwd.inputs.push_back(ctx.in(7));
      const std::vector<TensorType> y = infer_from(fwd, 0);
      FC_CHECK(same_shape(ctx.in(0), y[0]) && same_shape(ctx.in(5), y[0]) && same_shape(ctx.in(6), y[1]), ctx.node.describe(), ": dy ",
               to_string(ctx.in(0)), ", y ", to_string(ctx.in(5)), " and lse ", to_string(ctx.in(6)),
               " do not match the forward's ", to_string(y[0]), " and ", to_string(y[1]));
      return {ctx.in(1), ctx.in(2), ctx.in(3)};
    },
    .cost = [](const InferContext& ctx, const std::vector<TensorType>& outs) {
      OpCost c = attention_cost(ctx, 1, 5);
      for (const TensorType& o : outs) c.bytes += 4.0 * double(o.numel());
      return c;
    },
    .doc = "gradient of fc.Attention: (dq, dkt, dv) from dy, the inputs, y and the log-sum-exp",
});

}  // namespace fc::ir
