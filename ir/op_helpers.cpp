#include "ir/op_helpers.h"

#include "ir/shape_util.h"
#include "support/error.h"

namespace fc::ir {

std::vector<TensorType> same_as_input0(const InferContext& ctx) { return {ctx.in(0)}; }

std::vector<TensorType> broadcast_inputs(const InferContext& ctx) {
  std::vector<Dim> dims = ctx.in(0).dims;
  for (size_t i = 1; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) dims = broadcast_dims(dims, ctx.in(i).dims, ctx.node.describe());
  return {TensorType(ctx.in(0).dtype, dims)};
}

CostFn elementwise_cost(double flops_per_element) {
  return [flops_per_element](const InferContext& ctx, const std::vector<TensorType>& outs) {
    OpCost c;
    for (size_t i = 0; i < ctx.num_inputs(); ++i)
      if (ctx.has_input(i) && ctx.in(i).is_concrete())
        c.bytes += double(ctx.in(i).numel()) * dtype_size(ctx.in(i).dtype);
    for (const TensorType& t : outs) {
      c.bytes += double(t.numel()) * dtype_size(t.dtype);
      c.flops += flops_per_element * double(t.numel());
    }
    return c;
  };
}

void check_shaped_like_output(const InferContext& ctx, const TensorType& dy, const TensorType& want) {
  bool fits = dy.rank() == want.rank() && dy.dtype == want.dtype;
  for (size_t d = 0; fits && d < dy.rank(); ++d)
    fits = !dy.dims[d].is_known() || !want.dims[d].is_known() || dy.dims[d].size == want.dims[d].size;
  FC_CHECK(fits, ctx.node.describe(), ": dy ", to_string(dy), " is not shaped like the forward output ",
           to_string(want));
}

}  // namespace fc::ir
