// Optimizer updates as IR ops, one node per parameter tensor, reading the runtime hyper-parameter
// input (ir/hyperparams.h) so that schedules never recompile:
//   fc.SGDUpdate(w, grad, hyper, momentum_buf?) {nesterov} -> (w', momentum_buf'?)
//       torch.optim.SGD: d = g + wd*w; buf = d on the first step, else momentum*buf + (1-dampening)*d;
//       d = d + momentum*buf (nesterov) or buf; w' = w - lr*d.
//   fc.AdamWUpdate(w, grad, m, v, hyper) -> (w', m', v')
//       torch.optim.AdamW: w *= 1 - lr*wd; m = b1*m + (1-b1)g; v = b2*v + (1-b2)g^2;
//       w' = w - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps), t = step + 1.
#include "ir/error.h"
#include "ir/op_helpers.h"

namespace fc::ir {

namespace {
// Every input but the hyper-parameter vector has the parameter's shape.
std::vector<TensorType> state_like_w(const InferContext& ctx, size_t hyper_index) {
  for (size_t i = 1; i < ctx.num_inputs(); ++i)
    if (i != hyper_index && ctx.has_input(i))
      FC_CHECK(ctx.in(i).dims == ctx.in(0).dims, ctx.node.describe(), ": input ", i, " has shape ",
               to_string(ctx.in(i)), ", parameter has ", to_string(ctx.in(0)));
  return std::vector<TensorType>(ctx.node.outputs.size(), ctx.in(0));
}
}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "SGDUpdate",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 4,
    .min_outputs = 1,
    .max_outputs = 2,
    .attrs = {{"nesterov", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = [](const InferContext& ctx) { return state_like_w(ctx, 2); },
    .cost = elementwise_cost(6),
    .doc = "SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD semantics)",
    .in_place = {{0, 0}, {1, 3}},  // w' over w, momentum' over momentum
});

FC_REGISTER_OP(OpSchema{
    .name = "AdamWUpdate",
    .domain = "fc",
    .min_inputs = 5,
    .max_inputs = 5,
    .min_outputs = 3,
    .max_outputs = 3,
    .infer = [](const InferContext& ctx) { return state_like_w(ctx, 4); },
    .cost = elementwise_cost(12),
    .doc = "AdamW (torch.optim.AdamW semantics, amsgrad off)",
    .in_place = {{0, 0}, {1, 2}, {2, 3}},  // w', m', v' over w, m, v
});

}  // namespace fc::ir
