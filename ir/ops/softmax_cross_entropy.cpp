// fc.SoftmaxCrossEntropy(logits [..., C], labels i64 [...]) -> loss f32[]: the mean (or sum) over every
// labelled position of -log softmax(logits)[label] over the last axis, as PyTorch's F.cross_entropy
// (of logits moved to [M, C]) and ONNX SoftmaxCrossEntropyLoss (which the importer normalises into
// this op). Language models: logits [N, T, V], labels [N, T]; classifiers: [N, C] and [N].
// fc.SoftmaxCrossEntropyGrad(logits, labels, dloss f32[]) -> dlogits = (softmax - target) * dloss / D.
// fc.SoftmaxCrossEntropyAndGrad(logits, labels, dloss) -> (loss, dlogits): both in one kernel, from
// the same softmax (passes/loss_fusion.h makes it when dloss does not depend on the loss: the seed).
// All three run one program, softmax_cross_entropy_kernel (softmax_cross_entropy.h), JIT-compiled.
// Attributes:
//   reduction     "mean" (D = number of kept labels) or "sum" (D = 1)
//   ignore_index  rows whose label equals it contribute nothing (default kNoIgnoreIndex: none)
//   scale_count   when > 0, "mean" divides by this count instead (data-parallel training, where each
//                 rank holds M/R positions of a global batch of scale_count)
//   label_smoothing  eps in [0, 1]: the target is (1 - eps) * onehot + eps / C, as PyTorch's
//                 F.cross_entropy(label_smoothing=eps); ignored positions still count nothing
#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/ops/softmax_cross_entropy.h"

namespace fc::ir {

FusedKernel softmax_cross_entropy_kernel(int64_t rows, int64_t classes, int64_t ignore_index, bool loss, bool grad,
                                         float label_smoothing) {
  FC_CHECK(loss || grad, "softmax cross-entropy kernel without outputs");
  FusedKernel k({rows, classes});
  const int logits_in = k.add_input({rows, classes});
  const int labels_in = k.add_input({rows, 1});
  const int x = k.load(logits_in);
  const int label = k.load_i64(labels_in);
  const int column = k.column();
  const int shifted = k.sub(x, k.row_max(x));  // x - max: exp never overflows
  const int e = k.unary(ScalarOp::kExp, shifted);
  const int sum = k.row_sum(e);
  const int zero = k.constant(0.0f);
  const int onehot = k.equal(column, label);
  // The ignored label as a float: the node's kernel rejects any kept label that would compare equal.
  const int ignored = k.equal(label, k.constant(static_cast<float>(ignore_index)));
  const bool smooth = label_smoothing != 0.0f;
  const float off = label_smoothing / static_cast<float>(classes);  // eps / C: every class's share
  if (loss) {
    // Exactly one column matches a kept label, so this sum is that column's x - max.
    const int picked = k.row_sum(k.select(onehot, shifted, zero));
    int l = k.sub(k.unary(ScalarOp::kLog, sum), picked);
    if (smooth) {
      // -sum_c target_c * log p_c = log(sum) - (1 - eps) * picked - eps / C * sum_c (x_c - max).
      const int kept_part = k.mul(k.constant(1.0f - label_smoothing), picked);
      const int spread = k.mul(k.constant(off), k.row_sum(shifted));
      l = k.sub(k.sub(k.unary(ScalarOp::kLog, sum), kept_part), spread);
    }
    k.add_output(k.select(ignored, zero, l));
  }
  if (grad) {
    const int scale = k.param(k.add_input({1}), 0);
    const int target = smooth ? k.select(onehot, k.constant(1.0f - label_smoothing + off), k.constant(off)) : onehot;
    const int d = k.mul(k.sub(k.div(e, sum), target), scale);
    k.add_output(k.select(ignored, zero, d));
  }
  return k;
}

namespace {
const std::vector<AttrSpec> kLossAttrs = {
    {"scale_count", AttrKind::Int, Attribute{int64_t{0}}},
    {"reduction", AttrKind::String, Attribute{std::string("mean")}},
    {"ignore_index", AttrKind::Int, Attribute{kNoIgnoreIndex}},
    {"label_smoothing", AttrKind::Float, Attribute{0.0f}},
};

void check_logits_labels(const InferContext& ctx) {
  const TensorType& logits = ctx.in(0);
  const TensorType& labels = ctx.in(1);
  FC_CHECK(logits.rank() >= 2, ctx.node.describe(), ": logits must be [..., classes] of rank >= 2, got ",
           to_string(logits));
  bool fits = labels.dtype == DType::I64 && labels.rank() + 1 == logits.rank();
  for (size_t d = 0; fits && d < labels.rank(); ++d)
    fits = !labels.dims[d].is_known() || !logits.dims[d].is_known() || labels.dims[d].size == logits.dims[d].size;
  FC_CHECK(fits, ctx.node.describe(), ": labels must be i64 shaped like the logits without their last axis (",
           to_string(logits), "), got ", to_string(labels));
  const float eps = ctx.node.attr_float("label_smoothing");
  FC_CHECK(eps >= 0.0f && eps <= 1.0f, ctx.node.describe(), ": label_smoothing ", eps, " is outside [0, 1]");
  const std::string& reduction = ctx.node.attr_string("reduction");
  FC_CHECK(reduction == "mean" || reduction == "sum", ctx.node.describe(), ": reduction '", reduction,
           "' is not supported (use \"mean\" or \"sum\")");
}
}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "SoftmaxCrossEntropy",
    .domain = "fc",
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = kLossAttrs,
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      check_logits_labels(ctx);
      return {TensorType(ctx.in(0).dtype, {})};
    },
    .cost = elementwise_cost(4),
    .doc = "mean (or sum) softmax cross-entropy of logits against int64 class labels",
    .gradient = [](GradBuilder& b) -> std::vector<Value*> {
      const Node& n = b.node();
      Value* d = b.emit1("SoftmaxCrossEntropyGrad", {b.x(0), b.x(1), b.dy(0)},
                         {{"scale_count", n.attr_int("scale_count")},
                          {"reduction", n.attr_string("reduction")},
                          {"ignore_index", n.attr_int("ignore_index")},
                          {"label_smoothing", n.attr_float("label_smoothing")}},
                         "fc");
      return {d, nullptr};
    },
    .kind = OpKind::Loss,
});

FC_REGISTER_OP(OpSchema{
    .name = "SoftmaxCrossEntropyGrad",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = kLossAttrs,
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      check_logits_labels(ctx);
      return {ctx.in(0)};
    },
    .cost = elementwise_cost(4),
    .doc = "gradient of fc.SoftmaxCrossEntropy with respect to the logits",
});

FC_REGISTER_OP(OpSchema{
    .name = "SoftmaxCrossEntropyAndGrad",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 3,
    .min_outputs = 2,
    .max_outputs = 2,
    .attrs = kLossAttrs,
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      check_logits_labels(ctx);
      return {TensorType(ctx.in(0).dtype, {}), ctx.in(0)};
    },
    .cost = elementwise_cost(6),
    .doc = "fc.SoftmaxCrossEntropy and its gradient in one kernel (loss, dlogits)",
});

}  // namespace fc::ir
