// Pooling ops over 1-3 spatial axes, x: [N, C, D1..Dk] -> y: [N, C, O1..Ok]:
//   MaxPool, AveragePool: sliding windows (window.h); AveragePool's count_include_pad chooses the
//     divisor (PyTorch semantics: padding counts, the ceil-mode extension past the padding does not).
//   GlobalMaxPool, GlobalAveragePool: one window over all spatial axes -> [N, C, 1..1].
// MaxPool's optional Indices output is not supported (rejected at shape inference).
#include "ir/op_helpers.h"
#include "ir/ops/window.h"

namespace fc::ir {
namespace {

const TensorType& pool_input(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  FC_CHECK(x.dtype == DType::F32, ctx.node.describe(), ": only f32 is supported");
  FC_CHECK(x.rank() >= 3 && x.rank() <= 5, ctx.node.describe(),
           ": input must be [N, C, D1..Dk] with 1-3 spatial axes, is ", to_string(x));
  return x;
}

std::vector<TensorType> infer_window_pool(const InferContext& ctx) {
  const Node& node = ctx.node;
  FC_CHECK(node.outputs.size() <= 1, node.describe(), ": the Indices output is not supported");
  if (node.has_attr("storage_order"))
    FC_CHECK(node.attr_int("storage_order") == 0, node.describe(), ": storage_order=1 is not supported");
  if (node.has_attr("count_include_pad")) {
    int64_t c = node.attr_int("count_include_pad");
    FC_CHECK(c == 0 || c == 1, node.describe(), ": count_include_pad must be 0 or 1");
  }
  const TensorType& x = pool_input(ctx);
  const size_t k = x.rank() - 2;
  WindowAttrs w = read_window_attrs(node, k, {}, /*allow_ceil_mode=*/true);
  // A window lying wholly in padding would have nothing to pool (PyTorch requires pad <= k/2).
  for (size_t i = 0; i < k && w.auto_pad == "NOTSET"; ++i)
    FC_CHECK(w.pads_begin[i] < w.extent(i) && w.pads_end[i] < w.extent(i), node.describe(),
             ": pads must be smaller than the (dilated) kernel");
  std::vector<Dim> out{x.dims[0], x.dims[1]};
  for (size_t i = 0; i < k; ++i) out.push_back(output_dim(w, i, x.dims[2 + i], node));
  return {TensorType(DType::F32, out)};
}

std::vector<TensorType> infer_global_pool(const InferContext& ctx) {
  const TensorType& x = pool_input(ctx);
  std::vector<Dim> out{x.dims[0], x.dims[1]};
  out.resize(x.rank(), Dim::known(1));
  return {TensorType(DType::F32, out)};
}

// One comparison or add per window tap (a window is prod(kernel_shape), or all of the input).
OpCost window_pool_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  double taps = 1;
  for (int64_t k : ctx.node.attr_ints("kernel_shape")) taps *= double(k);
  return {double(outs[0].numel()) * taps, 4.0 * double(ctx.in(0).numel() + outs[0].numel())};
}

OpCost global_pool_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  return {double(ctx.in(0).numel()), 4.0 * double(ctx.in(0).numel() + outs[0].numel())};
}

const std::vector<AttrSpec> kWindowAttrs = {
    {"auto_pad", AttrKind::String, Attribute(std::string("NOTSET"))},
    {"ceil_mode", AttrKind::Int, Attribute(int64_t{0})},
    {"dilations", AttrKind::Ints},
    {"kernel_shape", AttrKind::Ints, std::nullopt, /*required=*/true},
    {"pads", AttrKind::Ints},
    {"strides", AttrKind::Ints},
};

std::vector<AttrSpec> with(std::vector<AttrSpec> base, AttrSpec extra) {
  base.push_back(std::move(extra));
  return base;
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "MaxPool",
    .since_opset = 1,
    .min_outputs = 1,
    .max_outputs = 2,
    .attrs = with(kWindowAttrs, {"storage_order", AttrKind::Int, Attribute(int64_t{0})}),
    .infer = infer_window_pool,
    .cost = window_pool_cost,
    .doc = "max over sliding windows (Y only; Indices unsupported)",
});

FC_REGISTER_OP(OpSchema{
    .name = "AveragePool",
    .since_opset = 1,
    .attrs = with(kWindowAttrs, {"count_include_pad", AttrKind::Int, Attribute(int64_t{0})}),
    .infer = infer_window_pool,
    .cost = window_pool_cost,
    .doc = "mean over sliding windows; count_include_pad chooses whether padding counts in the divisor",
});

FC_REGISTER_OP(OpSchema{
    .name = "GlobalAveragePool",
    .since_opset = 1,
    .infer = infer_global_pool,
    .cost = global_pool_cost,
    .doc = "mean over all spatial axes -> [N, C, 1, ..]",
});

FC_REGISTER_OP(OpSchema{
    .name = "GlobalMaxPool",
    .since_opset = 1,
    .infer = infer_global_pool,
    .cost = global_pool_cost,
    .doc = "max over all spatial axes -> [N, C, 1, ..]",
});

}  // namespace fc::ir
