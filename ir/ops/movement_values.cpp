// Ops that make or pick values rather than move whole tensors (kernels:
// runtime/cpu/kernels/movement_values.cpp): Gather and its gradient fc.GatherGrad, Cast, Constant,
// ConstantOfShape, Shape, Size, Range. Where an output's shape depends on an input's value (ConstantOfShape, Range), the shape
// function uses the value when it is known (a parameter) and gives unknown dims otherwise; the
// kernels size those outputs from the values at run time.
#include <string>
#include <vector>

#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/ops/movement.h"

namespace fc::ir {
namespace {

// out = data[:axis] + indices.dims + data[axis+1:]; scalar indices drop the axis.
std::vector<TensorType> gather_infer(const InferContext& ctx) {
  const TensorType& data = ctx.in(0);
  const TensorType& idx = ctx.in(1);
  FC_CHECK(idx.dtype == DType::I64 || idx.dtype == DType::I32, ctx.node.describe(), ": indices must be i64 or i32, got ",
           dtype_name(idx.dtype));
  FC_CHECK(data.rank() > 0, ctx.node.describe(), ": cannot gather from a scalar");
  const int64_t axis = normalize_axis(ctx.node.attr_int("axis"), static_cast<int64_t>(data.rank()), ctx.node.describe());
  std::vector<Dim> out(data.dims.begin(), data.dims.begin() + axis);
  out.insert(out.end(), idx.dims.begin(), idx.dims.end());
  out.insert(out.end(), data.dims.begin() + axis + 1, data.dims.end());
  return {TensorType(data.dtype, out)};
}

std::vector<TensorType> cast_infer(const InferContext& ctx) {
  return {TensorType(cast_target(ctx.node), ctx.in(0).dims)};
}

std::vector<TensorType> constant_infer(const InferContext& ctx) {
  const Tensor& v = ctx.node.attr_tensor("value");
  FC_CHECK(v.defined(), ctx.node.describe(), ": value has no element type");
  return {v.type()};
}

// The fill value's type (default: f32 zero) with the shape given by the input's values.
std::vector<TensorType> constant_of_shape_infer(const InferContext& ctx) {
  const Node& n = ctx.node;
  DType dtype = DType::F32;
  if (n.has_attr("value")) {
    const Tensor& v = n.attr_tensor("value");
    FC_CHECK(v.numel() == 1, n.describe(), ": value must hold one element, has ", v.numel());
    dtype = v.dtype();
  }
  const TensorType& shape = ctx.in(0);
  FC_CHECK(shape.dtype == DType::I64 && shape.rank() == 1, n.describe(), ": shape input must be i64[k], got ",
           to_string(shape));
  if (const Tensor* v = ctx.value(0)) {
    std::vector<int64_t> dims = v->to_int64_vector();
    for (int64_t d : dims) FC_CHECK(d >= 0, n.describe(), ": negative dimension ", d);
    return {TensorType::concrete(dtype, dims)};
  }
  FC_CHECK(shape.dims[0].is_known(), n.describe(), ": the length of the shape input must be known");
  return {TensorType(dtype, std::vector<Dim>(shape.dims[0].size, Dim::unknown()))};
}

std::vector<TensorType> shape_infer(const InferContext& ctx) {
  const auto [start, end] = shape_op_bounds(ctx.node, static_cast<int64_t>(ctx.in(0).rank()));
  return {TensorType::concrete(DType::I64, {end - start})};
}

std::vector<TensorType> size_infer(const InferContext& ctx) {
  (void)ctx.in(0);
  return {TensorType::concrete(DType::I64, {})};
}

std::vector<TensorType> range_infer(const InferContext& ctx) {
  const DType t = ctx.in(0).dtype;
  for (size_t i = 0; i < 3; ++i)
    FC_CHECK(ctx.in(i).dtype == t && ctx.in(i).rank() == 0, ctx.node.describe(),
             ": start, limit and delta must be scalars of one type, input ", i, " is ", to_string(ctx.in(i)));
  FC_CHECK(t == DType::F32 || t == DType::F64 || t == DType::I64 || t == DType::I32, ctx.node.describe(),
           ": Range of ", dtype_name(t), " is not supported (f32, f64, i64, i32)");
  if (ctx.value(0) && ctx.value(1) && ctx.value(2))
    return {TensorType::concrete(t, {range_length(ctx.node, *ctx.value(0), *ctx.value(1), *ctx.value(2))})};
  return {TensorType(t, {Dim::unknown()})};
}

// Gather's adjoint scatters dy back to the rows it was taken from, adding where an index repeats (an
// embedding's backward: every occurrence of a token adds its gradient to that token's row).
std::vector<Value*> gather_gradient(GradBuilder& b) {
  if (b.x(0)->type.dtype != DType::F32) return {nullptr, nullptr};  // training is float32
  return {b.emit1("GatherGrad", {b.x(0), b.x(1), b.dy(0)}, {{"axis", b.node().attr_int("axis")}}, "fc"), nullptr};
}

// fc.GatherGrad(data, indices, dy) -> ddata shaped like data (data is read for its shape only).
std::vector<TensorType> gather_grad_infer(const InferContext& ctx) {
  const TensorType want = gather_infer(ctx)[0];
  check_shaped_like_output(ctx, ctx.in(2), want);
  return {ctx.in(0)};
}

// Between float types the gradient is cast back; integer and bool inputs have no gradient.
std::vector<Value*> cast_gradient(GradBuilder& b) {
  const DType from = b.x(0)->type.dtype;
  if (from != DType::F32 && from != DType::F64) return {nullptr};
  return {b.emit1("Cast", {b.dy(0)}, {{"to", std::string(dtype_name(from))}})};
}

// Cost of ops that write an output without reading input data: the output bytes.
OpCost output_bytes_cost(const InferContext&, const std::vector<TensorType>& outputs) {
  OpCost c;
  for (const TensorType& t : outputs)
    if (t.is_concrete()) c.bytes += double(t.numel()) * dtype_size(t.dtype);
  return c;
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "Gather",
    .onnx_versions = {1, 11, 13},
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = {{"axis", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = gather_infer,
    .cost = movement_cost,
    .doc = "take entries of data along axis at indices (negative indices count from the end)",
    .gradient = gather_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "GatherGrad",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = {{"axis", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = gather_grad_infer,
    .cost = movement_cost,
    .doc = "gradient of Gather: dy scattered into zeros shaped like data, summed where indices repeat",
});

FC_REGISTER_OP(OpSchema{
    .name = "Cast",
    .onnx_versions = {1, 6, 9, 13, 19, 21},
    .attrs = {{"to", AttrKind::String, std::nullopt, true},
              // 0: a float8 target takes values beyond its range to infinity or NaN, not its largest value
              {"saturate", AttrKind::Int, Attribute{int64_t{1}}}},
    .infer = cast_infer,
    .cost = elementwise_cost(1),
    .doc = "convert element type (float to int truncates; to bool is x != 0)",
    .gradient = cast_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Constant",
    .onnx_versions = {1, 9, 11, 12, 13, 19, 21},
    .min_inputs = 0,
    .max_inputs = 0,
    .attrs = {{"value", AttrKind::Tensor, std::nullopt, true}},
    .infer = constant_infer,
    .cost = view_cost,
    .doc = "the tensor in attribute value",
});

FC_REGISTER_OP(OpSchema{
    .name = "ConstantOfShape",
    .onnx_versions = {9, 20, 21},
    .attrs = {{"value", AttrKind::Tensor, std::nullopt}},
    .infer = constant_of_shape_infer,
    .cost = output_bytes_cost,
    .doc = "a tensor of the input's shape filled with value (default f32 0)",
});

FC_REGISTER_OP(OpSchema{
    .name = "Shape",
    .onnx_versions = {1, 13, 15, 19, 21},
    .attrs = {{"start", AttrKind::Int, Attribute{int64_t{0}}}, {"end", AttrKind::Int, std::nullopt}},
    .infer = shape_infer,
    .cost = output_bytes_cost,
    .doc = "the input's dims [start, end) as i64",
});

FC_REGISTER_OP(OpSchema{
    .name = "Size",
    .onnx_versions = {1, 13, 19, 21},
    .infer = size_infer,
    .cost = output_bytes_cost,
    .doc = "the input's element count as an i64 scalar",
});

FC_REGISTER_OP(OpSchema{
    .name = "Range",
    .onnx_versions = {11},
    .min_inputs = 3,
    .max_inputs = 3,
    .infer = range_infer,
    .cost = output_bytes_cost,
    .doc = "start, start + delta, ... up to (excluding) limit",
});

}  // namespace fc::ir
