// ReduceSum / ReduceMean / ReduceMax / ReduceMin (opset-17 semantics with axes as an attribute):
// attributes `axes` ints (absent: all axes, or none when noop_with_empty_axes = 1), `keepdims` = 1,
// `noop_with_empty_axes` = 0. Reduced dims become 1 (keepdims) or disappear. Kernels:
// runtime/cpu/kernels/reduce.cpp.
#include "ir/ops/reduce.h"

#include "ir/error.h"
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
  FC_CHECK(x.dtype == DType::F32, ctx.node.describe(), ": input must be f32, got ", dtype_name(x.dtype));
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

[[maybe_unused]] const bool registered = [] {
  const std::pair<const char*, const char*> ops[] = {
      {"ReduceSum", "sum over axes"},
      {"ReduceMean", "mean over axes"},
      {"ReduceMax", "maximum over axes"},
      {"ReduceMin", "minimum over axes"},
  };
  for (const auto& [name, doc] : ops)
    OpRegistry::global().add(OpSchema{
        .name = name,
        .since_opset = 1,
        .attrs = reduce_attrs(),
        .infer = reduce_infer,
        .cost = reduce_cost,
        .doc = doc,
    });
  return true;
}();

}  // namespace
}  // namespace fc::ir
