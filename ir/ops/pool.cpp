// Pooling ops over 1-3 spatial axes, x: [N, C, D1..Dk] -> y: [N, C, O1..Ok]:
//   MaxPool, AveragePool: sliding windows (window.h); AveragePool's count_include_pad chooses the
//     divisor (PyTorch semantics: padding counts, the ceil-mode extension past the padding does not).
//   GlobalMaxPool, GlobalAveragePool: one window over all spatial axes -> [N, C, 1..1].
// MaxPool's optional Indices output (inference): i64, each window's maximum as an offset into the
// whole flattened x (row-major, or with storage_order=1 column-major within each (n, c) plane).
// Backward ops, with the forward's attributes (x supplies the shape and, for MaxPool, the values the
// maximum is recomputed from: the first maximum in window order receives the gradient, as in PyTorch):
//   fc.MaxPoolGrad(dy, x [, argmax]) -> dx, fc.AveragePoolGrad(dy, x) -> dx
// fc.MaxPoolTraining(x) -> y, argmax (i32, y's shape: each window's first maximum as an offset in
// x's (n, c) plane), MaxPool's attributes: the training forward MaxPool's gradient rule offers
// (ir::SavedOutputOffer, applied by passes/saved_outputs.h), so that fc.MaxPoolGrad reads argmax
// instead of searching x again (the same search made once: the same result).
// The global pools differentiate as the window pools with one window covering the spatial axes.
#include <algorithm>
#include <span>

#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/ops/window.h"

namespace fc::ir {
namespace {

// The element types a max pool takes: those whose every value is exactly a float, since the window
// search compares floats (ONNX's MaxPool list but double). Other pools, and the training forms, f32.
constexpr DType kMaxPoolTypes[] = {DType::F32, DType::F16, DType::BF16, DType::I8, DType::U8};
constexpr DType kF32Only[] = {DType::F32};

const TensorType& pool_input(const InferContext& ctx, std::span<const DType> types = kF32Only) {
  const TensorType& x = ctx.in(0);
  FC_CHECK(std::find(types.begin(), types.end(), x.dtype) != types.end(), ctx.node.describe(), ": element type ",
           dtype_name(x.dtype), " is not supported", types.size() == 1 ? " (only f32)" : "");
  FC_CHECK(x.rank() >= 3 && x.rank() <= 5, ctx.node.describe(),
           ": input must be [N, C, D1..Dk] with 1-3 spatial axes, is ", to_string(x));
  return x;
}

// y of a window pool (MaxPool, AveragePool and their project forms), of x's element type.
TensorType window_pool_output(const InferContext& ctx, std::span<const DType> types = kF32Only) {
  const Node& node = ctx.node;
  if (node.has_attr("storage_order"))  // only the order of MaxPool's Indices
    FC_CHECK(node.attr_int("storage_order") == 0 || node.attr_int("storage_order") == 1, node.describe(),
             ": storage_order must be 0 or 1");
  if (node.has_attr("count_include_pad")) {
    int64_t c = node.attr_int("count_include_pad");
    FC_CHECK(c == 0 || c == 1, node.describe(), ": count_include_pad must be 0 or 1");
  }
  const TensorType& x = pool_input(ctx, types);
  const size_t k = x.rank() - 2;
  WindowAttrs w = read_window_attrs(node, k, {}, /*allow_ceil_mode=*/true);
  // A window lying wholly in padding would have nothing to pool (PyTorch requires pad <= k/2).
  for (size_t i = 0; i < k && w.auto_pad == "NOTSET"; ++i)
    FC_CHECK(w.pads_begin[i] < w.extent(i) && w.pads_end[i] < w.extent(i), node.describe(),
             ": pads must be smaller than the (dilated) kernel");
  std::vector<Dim> out{x.dims[0], x.dims[1]};
  for (size_t i = 0; i < k; ++i) out.push_back(output_dim(w, i, x.dims[2 + i], node));
  return TensorType(x.dtype, out);
}

std::vector<TensorType> infer_window_pool(const InferContext& ctx) {
  FC_CHECK(ctx.node.outputs.size() <= 1, ctx.node.describe(), ": one output expected");
  return {window_pool_output(ctx)};
}

std::vector<TensorType> infer_max_pool(const InferContext& ctx) {
  const TensorType y = window_pool_output(ctx, kMaxPoolTypes);
  if (ctx.node.outputs.size() == 1) return {y};
  return {y, TensorType(DType::I64, y.dims)};
}

std::vector<TensorType> infer_global_pool(const InferContext& ctx, std::span<const DType> types) {
  const TensorType& x = pool_input(ctx, types);
  std::vector<Dim> out{x.dims[0], x.dims[1]};
  out.resize(x.rank(), Dim::known(1));
  return {TensorType(x.dtype, out)};
}
std::vector<TensorType> infer_global_average_pool(const InferContext& ctx) { return infer_global_pool(ctx, kF32Only); }
std::vector<TensorType> infer_global_max_pool(const InferContext& ctx) { return infer_global_pool(ctx, kMaxPoolTypes); }

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

const std::vector<AttrSpec> kMaxPoolAttrs = with(kWindowAttrs, {"storage_order", AttrKind::Int, Attribute(int64_t{0})});
const std::vector<AttrSpec> kAveragePoolAttrs =
    with(kWindowAttrs, {"count_include_pad", AttrKind::Int, Attribute(int64_t{0})});

std::vector<TensorType> infer_max_pool_training(const InferContext& ctx) {
  const TensorType y = window_pool_output(ctx);
  return {y, TensorType(DType::I32, y.dims)};
}

bool same_shape(const TensorType& a, const TensorType& b) {
  bool ok = a.rank() == b.rank();
  for (size_t i = 0; ok && i < a.rank(); ++i)
    ok = !a.dims[i].is_known() || !b.dims[i].is_known() || a.dims[i] == b.dims[i];
  return ok;
}

// (dy, x [, argmax]) -> dx: dy (and argmax) must have the shape the forward op gives for x.
std::vector<TensorType> infer_pool_grad(const InferContext& ctx) {
  InferContext fwd{ctx.node, {ctx.in(1)}, {nullptr}};
  const TensorType y = window_pool_output(fwd);
  const TensorType& dy = ctx.in(0);
  FC_CHECK(dy.dtype == DType::F32 && same_shape(dy, y), ctx.node.describe(), ": output gradient ", to_string(dy),
           " does not match the pooling output ", to_string(y));
  if (ctx.has_input(2)) {
    const TensorType& argmax = ctx.in(2);
    FC_CHECK(argmax.dtype == DType::I32 && same_shape(argmax, y), ctx.node.describe(), ": argmax ",
             to_string(argmax), " must be i32 with the pooling output's shape ", to_string(y));
  }
  return {ctx.in(1)};
}

// One tap visit per window element of dy (MaxPoolGrad also compares), plus zeroing dx; with argmax,
// one scatter per element of dy.
OpCost pool_grad_cost(const InferContext& ctx, const std::vector<TensorType>&) {
  double taps = 1;
  for (int64_t k : ctx.node.attr_ints("kernel_shape")) taps *= double(k);
  const double dy = double(ctx.in(0).numel()), x = double(ctx.in(1).numel());
  if (ctx.has_input(2)) return {dy, 4.0 * (2 * dy + x)};
  return {dy * taps, 4.0 * (dy + 2 * x)};
}

std::vector<Value*> window_pool_gradient(GradBuilder& b) {
  const std::string grad_op = b.node().op + "Grad";
  return {b.emit1(grad_op, {b.dy(0), b.x(0)}, b.node().attrs, "fc")};
}

// Offsets into x's (n, c) plane fit i32.
bool plane_fits_i32(const TensorType& x) {
  int64_t plane = 1;
  for (size_t i = 2; i < x.rank(); ++i) {
    if (!x.dims[i].is_known()) return false;
    plane *= x.dims[i].size;
    if (plane >= (int64_t{1} << 31)) return false;
  }
  return true;
}

// The window search's result, saved by the training forward fc.MaxPoolTraining, spares the backward
// its own search; planes of 2^31 elements or more keep the search (argmax offsets are i32). A
// MaxPool asked for its Indices keeps its form.
std::vector<Value*> max_pool_gradient(GradBuilder& b) {
  Value* dx = window_pool_gradient(b)[0];
  if (b.node().outputs.size() == 1 && plane_fits_i32(b.x(0)->type))
    b.offer_saved_output(dx, "MaxPoolTraining", "fc", 1, "argmax");
  return {dx};
}

// The global pools are the window pools with kernel_shape = the spatial dims (which must be known).
GradFn global_pool_gradient(const std::string& grad_op) {
  return [grad_op](GradBuilder& b) -> std::vector<Value*> {
    const TensorType& x = b.x(0)->type;
    std::vector<int64_t> kernel;
    for (size_t i = 2; i < x.rank(); ++i) {
      FC_CHECK(x.dims[i].is_known(), b.node().describe(), ": the gradient needs known spatial dims, input is ",
               to_string(x));
      kernel.push_back(x.dims[i].size);
    }
    return {b.emit1(grad_op, {b.dy(0), b.x(0)}, {{"kernel_shape", kernel}}, "fc")};
  };
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "MaxPool",
    .onnx_versions = {1, 8, 10, 11, 12},
    .min_outputs = 1,
    .max_outputs = 2,
    .attrs = kMaxPoolAttrs,
    .infer = infer_max_pool,
    .cost = window_pool_cost,
    .doc = "max over sliding windows; Indices (optional): each maximum's offset in the flattened x",
    .gradient = max_pool_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "AveragePool",
    .onnx_versions = {1, 7, 10, 11, 19},
    .attrs = kAveragePoolAttrs,
    .infer = infer_window_pool,
    .cost = window_pool_cost,
    .doc = "mean over sliding windows; count_include_pad chooses whether padding counts in the divisor",
    .gradient = window_pool_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "GlobalAveragePool",
    .onnx_versions = {1},
    .infer = infer_global_average_pool,
    .cost = global_pool_cost,
    .doc = "mean over all spatial axes -> [N, C, 1, ..]",
    .gradient = global_pool_gradient("AveragePoolGrad"),
});

FC_REGISTER_OP(OpSchema{
    .name = "GlobalMaxPool",
    .onnx_versions = {1},
    .infer = infer_global_max_pool,
    .cost = global_pool_cost,
    .doc = "max over all spatial axes -> [N, C, 1, ..]",
    .gradient = global_pool_gradient("MaxPoolGrad"),
});

FC_REGISTER_OP(OpSchema{
    .name = "MaxPoolTraining",
    .domain = "fc",
    .min_outputs = 2,
    .max_outputs = 2,
    .attrs = kMaxPoolAttrs,
    .infer = infer_max_pool_training,
    .cost =
        [](const InferContext& ctx, const std::vector<TensorType>& outs) {
          OpCost c = window_pool_cost(ctx, outs);
          c.bytes += 4.0 * double(outs[1].numel());
          return c;
        },
    .doc = "MaxPool that records each window's first maximum (argmax) for fc.MaxPoolGrad",
});

FC_REGISTER_OP(OpSchema{
    .name = "MaxPoolGrad",
    .domain = "fc",
    .min_inputs = 2,
    .max_inputs = 3,
    .attrs = kMaxPoolAttrs,
    .infer = infer_pool_grad,
    .cost = pool_grad_cost,
    .doc = "gradient of MaxPool: (dy, x [, argmax]) -> dx, routed to the first maximum of each window",
});

FC_REGISTER_OP(OpSchema{
    .name = "AveragePoolGrad",
    .domain = "fc",
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = kAveragePoolAttrs,
    .infer = infer_pool_grad,
    .cost = pool_grad_cost,
    .doc = "gradient of AveragePool: (dy, x) -> dx, with the forward's divisor",
});

}  // namespace fc::ir
