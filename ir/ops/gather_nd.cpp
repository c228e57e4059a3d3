// GatherND (opset 11; batch_dims from 12) and its gradient fc.GatherNDGrad. indices [..., k] (i64)
// address k dims of data after its first batch_dims (which data and indices share); the output is
// indices.shape[:-1] + data.shape[batch_dims + k:], each index tuple taking its slice of data.
// Negative indices count from the end. PyTorch exports advanced indexing this way (Swin's
// relative-position bias gathered from its trained table, exported with optimize=False).
// Kernels: runtime/cpu/kernels/gather_nd.cpp.
//
// Gradient: fc.GatherNDGrad(data, indices, dy) scatters dy back, adding where tuples repeat (in
// index order, so deterministically), into zeros shaped like data (read for its shape only).
#include <string>
#include <vector>

#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "support/error.h"

namespace fc::ir {
namespace {

std::vector<TensorType> gather_nd_infer(const InferContext& ctx) {
  const Node& n = ctx.node;
  const TensorType &data = ctx.in(0), &idx = ctx.in(1);
  FC_CHECK(idx.dtype == DType::I64, n.describe(), ": indices must be i64, got ", dtype_name(idx.dtype));
  const int64_t b = n.attr_int("batch_dims");
  const int64_t r = static_cast<int64_t>(data.rank()), q = static_cast<int64_t>(idx.rank());
  FC_CHECK(q >= 1 && idx.dims.back().is_known(), n.describe(), ": indices need rank >= 1 and a known last dim");
  const int64_t k = idx.dims.back().size;
  FC_CHECK(b >= 0 && b < q && b + k <= r && k >= 1, n.describe(), ": batch_dims ", b, " and index length ", k,
           " do not fit data ", to_string(data), " and indices ", to_string(idx));
  for (int64_t i = 0; i < b; ++i)
    FC_CHECK(!data.dims[i].is_known() || !idx.dims[i].is_known() || data.dims[i] == idx.dims[i], n.describe(),
             ": batch dim ", i, " differs between data ", to_string(data), " and indices ", to_string(idx));
  std::vector<Dim> out(idx.dims.begin(), idx.dims.end() - 1);
  out.insert(out.end(), data.dims.begin() + b + k, data.dims.end());
  return {TensorType(data.dtype, out)};
}

std::vector<Value*> gather_nd_gradient(GradBuilder& b) {
  if (b.x(0)->type.dtype != DType::F32) return {nullptr, nullptr};  // training is float32
  return {b.emit1("GatherNDGrad", {b.x(0), b.x(1), b.dy(0)}, {{"batch_dims", b.node().attr_int("batch_dims")}}, "fc"),
          nullptr};
}

std::vector<TensorType> gather_nd_grad_infer(const InferContext& ctx) {
  const TensorType want = gather_nd_infer(ctx)[0];
  check_shaped_like_output(ctx, ctx.in(2), want);
  return {ctx.in(0)};
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "GatherND",
    .onnx_versions = {11, 12, 13},
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = {{"batch_dims", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = gather_nd_infer,
    .cost = elementwise_cost(0),
    .doc = "slices of data at index tuples over its dims after batch_dims",
    .gradient = gather_nd_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "GatherNDGrad",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = {{"batch_dims", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = gather_nd_grad_infer,
    .cost = elementwise_cost(1),
    .doc = "GatherND's gradient: dy's slices added into zeros shaped like data at the index tuples",
});

}  // namespace fc::ir
