// ReduceSum / ReduceMean / ReduceMax / ReduceMin (opset-17 semantics with axes as an attribute):
// attributes `axes` ints (absent: all axes, or none when noop_with_empty_axes = 1), `keepdims` = 1,
// `noop_with_empty_axes` = 0. Reduced dims become 1 (keepdims) or disappear. Kernels:
// runtime/cpu/kernels/reduce.cpp.
//
// Gradients: one-pass backward ops of domain "fc" carrying the forward node's reduction attributes,
// each writing every element of dx (kernels: runtime/cpu/kernels/reduce_grad.cpp):
//   fc.ReduceSumGrad(dy, x)       dx = dy broadcast back over the reduced axes
//   fc.ReduceMeanGrad(dy, x)      dx = (dy / count) broadcast back
//   fc.ReduceSelectGrad(dy, x, y) dx = dy at the FIRST element (row-major order over the reduced
//                                 axes) equal to its output y, 0 elsewhere (ReduceMax, ReduceMin;
//                                 PyTorch's amax/amin split ties evenly, torch.max(dim) picks one)
// x is an input of the first two only for its shape.
#include "ir/ops/reduce.h"

#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"

namespace fc::ir {

std::vector<bool> reduced_axes(const Node& node, int64_t rank) {
  std::vector<int64_t> axes;
  if (node.has_attr("axes")) axes = node.attr_ints("axes");
  const bool noop = node.attr_int("noop_with_empty_axes") != 0;
  std::vector<bool> mask(rank, axes.empty() && !noop);
  for (int64_t a : axes) {
    int64_t n = normalize_axis(a, rank, node.describe());
    FC_CHECK(!mask[n], node.describe(), ": axis ", a, " is listed twice");
    mask[n] = true;
  }
  return mask;
}

namespace {

std::vector<TensorType> reduce_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  // Every numeric type; bool too for ReduceMax/ReduceMin (any / all, opset 20).
  const bool selects = ctx.node.op == "ReduceMax" || ctx.node.op == "ReduceMin";
  FC_CHECK(!is_storage_only_dtype(x.dtype) && x.dtype != DType::Undefined && (selects || x.dtype != DType::Bool),
           ctx.node.describe(), ": input of type ", dtype_name(x.dtype), " is not supported");
  std::vector<bool> mask = reduced_axes(ctx.node, static_cast<int64_t>(x.rank()));
  const bool keep = ctx.node.attr_int("keepdims") != 0;
  std::vector<Dim> dims;
  for (size_t i = 0; i < x.rank(); ++i) {
    if (!mask[i]) dims.push_back(x.dims[i]);
    else if (keep) dims.push_back(Dim::known(1));
  }
  return {TensorType(x.dtype, dims)};
}

// One operation per input element (Mean adds one per output element, ignored).
OpCost reduce_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c;
  const TensorType& x = ctx.in(0);
  if (!x.is_concrete() || !outs[0].is_concrete()) return c;
  c.flops = double(x.numel());
  c.bytes = double(x.numel() + outs[0].numel()) * dtype_size(x.dtype);
  return c;
}

std::vector<AttrSpec> reduce_attrs() {
  return {{"axes", AttrKind::Ints, std::nullopt},
          {"keepdims", AttrKind::Int, Attribute{int64_t{1}}},
          {"noop_with_empty_axes", AttrKind::Int, Attribute{int64_t{0}}}};
}

// dx = fc.<grad_op>(dy, x [, y]) with the forward node's attributes.
GradFn reduce_grad(const char* grad_op, bool pass_y) {
  return [=](GradBuilder& b) -> std::vector<Value*> {
    std::vector<Value*> ins{b.dy(0), b.x(0)};
    if (pass_y) ins.push_back(b.y(0));
    return {b.emit1(grad_op, ins, b.node().attrs, "fc")};
  };
}

// dy must have the type the forward reduction gives x; dx has x's type.
std::vector<TensorType> reduce_grad_infer(const InferContext& ctx) {
  const std::vector<TensorType> y = reduce_infer(InferContext{ctx.node, {ctx.in(1)}, {nullptr}});
  FC_CHECK(ctx.in(0).dtype == DType::F32 && ctx.in(0).rank() == y[0].rank(), ctx.node.describe(), ": dy is ",
           to_string(ctx.in(0)), ", expected ", to_string(y[0]));
  return {ctx.in(1)};
}

[[maybe_unused]] const bool registered = [] {
  struct Def {
    const char* name;
    std::vector<int> onnx_versions;  // the op's version table (OpSchema::onnx_versions)
    const char* doc;
    GradFn grad;
  };
  const Def ops[] = {
      {"ReduceSum", {1, 11, 13}, "sum over axes", reduce_grad("ReduceSumGrad", false)},
      {"ReduceMean", {1, 11, 13, 18}, "mean over axes", reduce_grad("ReduceMeanGrad", false)},
      {"ReduceMax", {1, 11, 12, 13, 18, 20}, "maximum over axes", reduce_grad("ReduceSelectGrad", true)},
      {"ReduceMin", {1, 11, 12, 13, 18, 20}, "minimum over axes", reduce_grad("ReduceSelectGrad", true)},
  };
  for (const Def& d : ops)
    OpRegistry::global().add(OpSchema{
        .name = d.name,
        .onnx_versions = d.onnx_versions,
        .attrs = reduce_attrs(),
        .infer = reduce_infer,
        .cost = reduce_cost,
        .doc = d.doc,
        .gradient = d.grad,
    });
  const std::pair<const char*, int> grads[] = {{"ReduceSumGrad", 2}, {"ReduceMeanGrad", 2}, {"ReduceSelectGrad", 3}};
  for (const auto& [name, inputs] : grads)
    OpRegistry::global().add(OpSchema{
        .name = name,
        .domain = "fc",
        .min_inputs = inputs,
        .max_inputs = inputs,
        .attrs = reduce_attrs(),
        .infer = reduce_grad_infer,
        .cost = elementwise_cost(1),
        .doc = "gradient of a reduction, broadcast back to the input's shape",
    });
  return true;
}();

}  // namespace
}  // namespace fc::ir
