// Conv (ONNX opset 11+ semantics): y = conv(x, w) + b over 1-3 spatial axes, with groups.
//   x: [N, C, D1..Dk], w: [M, C/group, K1..Kk], b: [M] (optional) -> y: [N, M, O1..Ok]
// Attributes: auto_pad, dilations, group, kernel_shape (defaults to w's spatial dims), pads, strides.
// Backward ops (gradient rule below), with Conv's attributes:
//   fc.ConvGradData(dy, w, x) -> dx (x only supplies the input shape)
//   fc.ConvGradWeight(dy, x, w) -> dw [, db] (w only supplies the weight shape; db = sum of dy over
//     N and the spatial axes, computed in the same pass when asked for)
// When only the bias needs a gradient it is a ReduceSum of dy.
// fc.ConvRelu(x, w [, b]) = max(Conv(x, w [, b]), 0), Conv's attributes: a Relu folded into the Conv
// before it by the fusion pass (passes/elementwise_fusion.h) after autodiff, so it has no gradient
// rule (ReluGrad reads the Relu's output, which this node now produces).
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/ops/window.h"

namespace fc::ir {
namespace {

struct ConvShape {
  WindowAttrs window;
  std::vector<Dim> out;
};

ConvShape conv_shape(const InferContext& ctx) {
  const Node& node = ctx.node;
  const TensorType& x = ctx.in(0);
  const TensorType& w = ctx.in(1);
  FC_CHECK(x.dtype == DType::F32 && w.dtype == DType::F32, node.describe(), ": only f32 is supported");
  FC_CHECK(x.rank() >= 3 && x.rank() <= 5, node.describe(), ": input must be [N, C, D1..Dk] with 1-3 spatial axes, is ",
           to_string(x));
  FC_CHECK(w.rank() == x.rank(), node.describe(), ": weight ", to_string(w), " must have the rank of the input ",
           to_string(x));
  FC_CHECK(w.is_concrete(), node.describe(), ": weight shape must be known, is ", to_string(w));
  const size_t k = x.rank() - 2;
  const int64_t group = node.attr_int("group");
  const int64_t m = w.dims[0].size, cg = w.dims[1].size;
  FC_CHECK(group >= 1 && m % group == 0, node.describe(), ": group ", group, " must divide the ", m,
           " output channels");
  if (x.dims[1].is_known())
    FC_CHECK(x.dims[1].size == cg * group, node.describe(), ": input has ", x.dims[1].size,
             " channels, weight expects ", cg * group, " (", cg, " per group x ", group, " groups)");
  if (ctx.has_input(2)) {
    const TensorType& b = ctx.in(2);
    FC_CHECK(b.dtype == DType::F32 && b.rank() == 1 && b.dims[0] == Dim::known(m), node.describe(), ": bias ",
             to_string(b), " must be f32[", m, "]");
  }
  std::vector<int64_t> wk;
  for (size_t i = 0; i < k; ++i) wk.push_back(w.dims[2 + i].size);
  ConvShape r{read_window_attrs(node, k, wk, /*allow_ceil_mode=*/false), {x.dims[0], Dim::known(m)}};
  for (size_t i = 0; i < k; ++i) r.out.push_back(output_dim(r.window, i, x.dims[2 + i], node));
  return r;
}

std::vector<TensorType> infer_conv(const InferContext& ctx) {
  return {TensorType(DType::F32, conv_shape(ctx).out)};
}

// Each output element is a dot product over (C/group) * prod(kernel) taps, plus the bias add.
OpCost conv_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  const TensorType& w = ctx.in(1);
  const double taps = double(w.numel()) / double(w.dims[0].size);
  const double out = double(outs[0].numel());
  OpCost c;
  c.flops = 2 * out * taps + (ctx.has_input(2) ? out : 0);
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) c.bytes += 4.0 * double(ctx.in(i).numel());
  c.bytes += 4.0 * out;
  return c;
}

// Backward ops: x and w as the forward saw them; dy must have the forward output's shape.
void check_dy(const InferContext& ctx, const TensorType& x, const TensorType& w, const TensorType& dy) {
  InferContext fwd{ctx.node, {x, w}, {nullptr, nullptr}};
  const std::vector<Dim> y = conv_shape(fwd).out;
  bool ok = dy.dtype == DType::F32 && dy.rank() == y.size();
  for (size_t i = 0; ok && i < y.size(); ++i)
    ok = !dy.dims[i].is_known() || !y[i].is_known() || dy.dims[i] == y[i];
  FC_CHECK(ok, ctx.node.describe(), ": output gradient ", to_string(dy), " does not match the convolution output ",
           to_string(TensorType(DType::F32, y)));
}

std::vector<TensorType> infer_conv_grad_data(const InferContext& ctx) {
  check_dy(ctx, ctx.in(2), ctx.in(1), ctx.in(0));
  return {ctx.in(2)};
}

std::vector<TensorType> infer_conv_grad_weight(const InferContext& ctx) {
  check_dy(ctx, ctx.in(1), ctx.in(2), ctx.in(0));
  const TensorType& w = ctx.in(2);
  return {w, TensorType(DType::F32, {w.dims[0]})};
}

// Both backward passes do the forward's multiply-adds once more (dw adds the bias sum when asked).
OpCost conv_grad_cost(const InferContext& ctx, const std::vector<TensorType>& outs, size_t w_index) {
  const TensorType& w = ctx.in(w_index);
  const double taps = double(w.numel()) / double(w.dims[0].size);
  const double dy = double(ctx.in(0).numel());
  OpCost c;
  c.flops = 2 * dy * taps + (outs.size() > 1 ? dy : 0);
  for (size_t i = 0; i < ctx.num_inputs(); ++i) c.bytes += 4.0 * double(ctx.in(i).numel());
  for (const TensorType& t : outs) c.bytes += 4.0 * double(t.numel());
  return c;
}

std::vector<Value*> conv_gradient(GradBuilder& b) {
  const Node& n = b.node();
  std::vector<Value*> d(n.inputs.size(), nullptr);
  if (b.needs(0)) d[0] = b.emit1("ConvGradData", {b.dy(0), b.x(1), b.x(0)}, n.attrs, "fc");
  const bool bias = b.needs(2);
  if (b.needs(1)) {
    std::vector<Value*> r = b.emit("ConvGradWeight", {b.dy(0), b.x(0), b.x(1)}, n.attrs, bias ? 2 : 1, "fc");
    d[1] = r[0];
    if (bias) d[2] = r[1];
  } else if (bias) {
    std::vector<int64_t> axes{0};
    for (int64_t i = 2; i < static_cast<int64_t>(b.dy(0)->type.rank()); ++i) axes.push_back(i);
    d[2] = b.emit1("ReduceSum", {b.dy(0)}, {{"axes", axes}, {"keepdims", int64_t{0}}});
  }
  return d;
}

const std::vector<AttrSpec> kConvAttrs = {{"auto_pad", AttrKind::String, Attribute(std::string("NOTSET"))},
                                          {"dilations", AttrKind::Ints},
                                          {"group", AttrKind::Int, Attribute(int64_t{1})},
                                          {"kernel_shape", AttrKind::Ints},
                                          {"pads", AttrKind::Ints},
                                          {"strides", AttrKind::Ints}};

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "Conv",
    .onnx_versions = {1, 11},
    .min_inputs = 2,
    .max_inputs = 3,
    .attrs = kConvAttrs,
    .infer = infer_conv,
    .cost = conv_cost,
    .doc = "N-d convolution with groups, dilations, strides and padding (oneDNN on CPU)",
    .gradient = conv_gradient,
    .kind = OpKind::Convolution,
});

FC_REGISTER_OP(OpSchema{
    .name = "ConvRelu",
    .domain = "fc",
    .min_inputs = 2,
    .max_inputs = 3,
    .attrs = kConvAttrs,
    .infer = infer_conv,
    .cost =
        [](const InferContext& ctx, const std::vector<TensorType>& outs) {
          OpCost c = conv_cost(ctx, outs);
          c.flops += double(outs[0].numel());  // the max with 0
          return c;
        },
    .doc = "Conv followed by Relu in one pass (the fusion pass folds a Relu into its Conv)",
    .kind = OpKind::Convolution,
});

FC_REGISTER_OP(OpSchema{
    .name = "ConvGradData",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = kConvAttrs,
    .infer = infer_conv_grad_data,
    .cost = [](const InferContext& ctx, const std::vector<TensorType>& outs) { return conv_grad_cost(ctx, outs, 1); },
    .doc = "gradient of Conv with respect to its input: (dy, w, x) -> dx",
    .kind = OpKind::Convolution,
});

FC_REGISTER_OP(OpSchema{
    .name = "ConvGradWeight",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 2,
    .attrs = kConvAttrs,
    .infer = infer_conv_grad_weight,
    .cost = [](const InferContext& ctx, const std::vector<TensorType>& outs) { return conv_grad_cost(ctx, outs, 2); },
    .doc = "gradient of Conv with respect to its weight (and bias): (dy, x, w) -> dw [, db]",
    .kind = OpKind::Convolution,
});

}  // namespace fc::ir
