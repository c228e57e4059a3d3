// fc.GlobalNorm(x1, ..., xk) -> f32[]: the L2 norm of all inputs taken together,
// sqrt(sum_i sum_e x_i[e]^2), as torch.nn.utils.clip_grad_norm_ measures gradients (the norm of the
// per-tensor norms is the same number). Gradient clipping (passes/training_graph.h) reads the
// gradients after their allreduce, so every rank computes the same norm. Not differentiable.
#include "support/error.h"
#include "ir/op_helpers.h"

namespace fc::ir {

FC_REGISTER_OP(OpSchema{
    .name = "GlobalNorm",
    .domain = "fc",
    .min_inputs = 1,
    .max_inputs = 1 << 20,
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      for (size_t i = 0; i < ctx.num_inputs(); ++i)
        FC_CHECK(ctx.in(i).dtype == DType::F32, ctx.node.describe(), ": input ", i, " is ", to_string(ctx.in(i)),
                 ", expected f32");
      return {TensorType(DType::F32, {})};
    },
    .cost = elementwise_cost(2),
    .doc = "L2 norm of all inputs together (gradient clipping's global norm)",
});

}  // namespace fc::ir
