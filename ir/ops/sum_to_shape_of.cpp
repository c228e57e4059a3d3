// fc.SumToShapeOf(grad, like): sums `grad` over the dimensions along which `like` was broadcast, so
// the result has like's shape. The adjoint of numpy broadcasting, used by gradient rules.
#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"

namespace fc::ir {

FC_REGISTER_OP(OpSchema{
    .name = "SumToShapeOf",
    .domain = "fc",
    .min_inputs = 2,
    .max_inputs = 2,
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      FC_CHECK(ctx.in(1).rank() <= ctx.in(0).rank(), ctx.node.describe(), ": target has higher rank than input");
      return {TensorType(ctx.in(0).dtype, ctx.in(1).dims)};
    },
    .cost = elementwise_cost(1),
    .doc = "sum a broadcast gradient back to the shape of a tensor",
});

}  // namespace fc::ir
