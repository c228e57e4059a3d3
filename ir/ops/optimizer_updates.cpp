// Optimizer updates as IR ops, one node per parameter tensor, reading the runtime hyper-parameter
// input (ir/hyperparams.h) so that schedules never recompile. The math lives here alone, as each
// op's scalar form: the CPU backend compiles it with the LLVM JIT for a single node, and the update
// fusion pass (passes/update_fusion.h) for all the updates of an allreduce bucket in one kernel.
// Both take {decay} (default 1): 0 leaves the parameter out of weight decay (biases and
// normalisation scales in most transformer recipes: PyTorch's parameter group with weight_decay 0).
//   fc.SGDUpdate(w, grad, hyper, momentum_buf?) {nesterov} -> (w', momentum_buf'?)
//       torch.optim.SGD: d = g + wd*w; buf = d on the first step, else momentum*buf + (1-dampening)*d;
//       d = d + momentum*buf (nesterov) or buf; w' = w - lr*d.
//   fc.AdamWUpdate(w, grad, m, v, hyper) -> (w', m', v')
//       torch.optim.AdamW: w *= 1 - lr*wd; m = b1*m + (1-b1)g; v = b2*v + (1-b2)g^2;
//       w' = w - lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps), t = step + 1.
// The layer-wise adaptive updates scale each tensor's step by a ratio of norms over the whole tensor,
// so they have CPU kernels instead of scalar forms (runtime/cpu/kernels/layerwise_updates.cpp).
// `exclude` (biases and BatchNorm scales/shifts, You et al. 2017) takes the plain step: ratio 1, no
// weight decay. A ratio with a zero norm in it is 1.
//   fc.LarsUpdate(w, grad, momentum_buf, hyper) {exclude} -> (w', momentum_buf')
//       LARS (You, Gitman, Ginsburg 2017, with momentum): local = trust * ||w|| / (||g|| + wd*||w||);
//       buf = momentum*buf + lr*local*(g + wd*w); w' = w - buf.
//   fc.LambUpdate(w, grad, m, v, hyper) {exclude} -> (w', m', v')
//       LAMB (You et al. 2019, bias-corrected): m, v as Adam; r = m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps)
//       + wd*w; w' = w - lr * ||w|| / ||r|| * r.
#include "support/error.h"
#include "ir/fused_kernel.h"
#include "ir/hyperparams.h"
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
// torch.optim.SGD, per element; branches on hyper-parameters are selects (select(c, a, b) is
// c != 0 ? a : b), so the kernel never depends on their values. Weight decay and momentum are
// applied only where non-zero, as torch does; on the first step the buffer starts as d. "add with
// alpha" is a fused multiply-add in ATen's vectorised CPU kernels, and so it is here.
std::vector<int> sgd_scalar(FusedKernel& k, const Node& n, const std::vector<int>& in) {
  // One builder call per statement: the program's text (its cache key) must not depend on the
  // compiler's order of evaluating arguments.
  const int w = in[0], g = in[1], h = in[2];
  int d = g;
  if (n.attr_int("decay")) {
    const int wd = k.param(h, kHyperWeightDecay);
    const int decayed = k.fma(wd, w, g);
    d = k.select(wd, decayed, g);
  }
  const bool has_buffer = in.size() > 3 && n.outputs.size() > 1;
  int buf_next = -1;
  if (has_buffer) {
    const int buf = in[3];
    const int momentum = k.param(h, kHyperMomentum);
    const int one = k.constant(1.0f);
    const int keep = k.sub(one, k.param(h, kHyperDampening));
    const int kept = k.mul(buf, momentum);
    const int later = k.fma(keep, d, kept);
    const int step = k.param(h, kHyperStep);
    const int b = k.select(step, later, d);
    buf_next = k.select(momentum, b, buf);  // momentum 0: the buffer passes through
    const int direction = n.attr_int("nesterov") ? k.fma(momentum, b, d) : b;
    d = k.select(momentum, direction, d);
  }
  const int neg_lr = k.unary(ScalarOp::kNeg, k.param(h, kHyperLr));
  const int w_next = k.fma(neg_lr, d, w);
  return has_buffer ? std::vector<int>{w_next, buf_next} : std::vector<int>{w_next};
}

// torch.optim.AdamW (amsgrad off), per element, with its double-precision scalars from the hyper
// vector (derive_hyperparams): exp_avg.lerp_(g, 1 - b1) is m*b1 + (1-b1)*g, the second moment's
// addcmul is v*b2 + ((1-b2)*g)*g, and the step w - step_size * (m / denom) is one fused multiply-add
// (one rounding fewer; what the hand-written kernel this replaced computed). (A step rounded twice
// was once measured 3.2e-5 from the float64 truth on ResNet-18 after 3 steps against 5.6e-6; re-measured
// on an AMD EPYC both give 5.6e-6: not the step's rounding; a ReLU input within rounding of zero landing
// on the other side moves it that much, see tests/parity/train_parity.py.)
std::vector<int> adamw_scalar(FusedKernel& k, const Node& n, const std::vector<int>& in) {
  // (At most one builder call nested in another: see sgd_scalar.)
  const int w = in[0], g = in[1], m = in[2], v = in[3], h = in[4];
  const int decayed = n.attr_int("decay") ? k.mul(w, k.param(h, kHyperAdamDecay)) : w;
  const int m_kept = k.mul(m, k.param(h, kHyperBeta1));
  const int m_next = k.fma(k.param(h, kHyperAdamOneMinusBeta1), g, m_kept);
  const int v_kept = k.mul(v, k.param(h, kHyperBeta2));
  const int g_scaled = k.mul(k.param(h, kHyperAdamOneMinusBeta2), g);
  const int v_next = k.add(v_kept, k.mul(g_scaled, g));
  const int sqrt_v = k.unary(ScalarOp::kSqrt, v_next);
  const int root = k.div(sqrt_v, k.param(h, kHyperAdamBiasCorrection2Sqrt));
  const int denom = k.add(root, k.param(h, kHyperEps));
  const int ratio = k.div(m_next, denom);
  const int neg_step_size = k.unary(ScalarOp::kNeg, k.param(h, kHyperAdamStepSize));
  const int w_next = k.fma(neg_step_size, ratio, decayed);
  return {w_next, m_next, v_next};
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "SGDUpdate",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 4,
    .min_outputs = 1,
    .max_outputs = 2,
    .attrs = {{"nesterov", AttrKind::Int, Attribute{int64_t{0}}}, {"decay", AttrKind::Int, Attribute{int64_t{1}}}},
    .infer = [](const InferContext& ctx) { return state_like_w(ctx, 2); },
    .cost = elementwise_cost(6),
    .doc = "SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD semantics)",
    .scalar = sgd_scalar,
    .table_inputs = {2},
    .in_place = [](const Node&) { return std::vector<std::pair<int, int>>{{0, 0}, {1, 3}}; },  // w, momentum
    .kind = OpKind::OptimizerUpdate,
});

FC_REGISTER_OP(OpSchema{
    .name = "AdamWUpdate",
    .domain = "fc",
    .min_inputs = 5,
    .max_inputs = 5,
    .min_outputs = 3,
    .max_outputs = 3,
    .attrs = {{"decay", AttrKind::Int, Attribute{int64_t{1}}}},
    .infer = [](const InferContext& ctx) { return state_like_w(ctx, 4); },
    .cost = elementwise_cost(12),
    .doc = "AdamW (torch.optim.AdamW semantics, amsgrad off)",
    .scalar = adamw_scalar,
    .table_inputs = {4},
    .in_place = [](const Node&) { return std::vector<std::pair<int, int>>{{0, 0}, {1, 2}, {2, 3}}; },  // w, m, v
    .kind = OpKind::OptimizerUpdate,
});

FC_REGISTER_OP(OpSchema{
    .name = "LarsUpdate",
    .domain = "fc",
    .min_inputs = 4,
    .max_inputs = 4,
    .min_outputs = 2,
    .max_outputs = 2,
    .attrs = {{"exclude", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = [](const InferContext& ctx) { return state_like_w(ctx, 3); },
    .cost = elementwise_cost(10),
    .doc = "LARS: SGD with momentum and a per-tensor trust ratio (You et al. 2017)",
    .in_place = [](const Node&) { return std::vector<std::pair<int, int>>{{0, 0}, {1, 2}}; },  // w, momentum
    .kind = OpKind::OptimizerUpdate,
});

FC_REGISTER_OP(OpSchema{
    .name = "LambUpdate",
    .domain = "fc",
    .min_inputs = 5,
    .max_inputs = 5,
    .min_outputs = 3,
    .max_outputs = 3,
    .attrs = {{"exclude", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = [](const InferContext& ctx) { return state_like_w(ctx, 4); },
    .cost = elementwise_cost(16),
    .doc = "LAMB: Adam with a per-tensor trust ratio (You et al. 2019)",
    .in_place = [](const Node&) { return std::vector<std::pair<int, int>>{{0, 0}, {1, 2}, {2, 3}}; },  // w, m, v
    .kind = OpKind::OptimizerUpdate,
});

}  // namespace fc::ir
