// fc.SoftmaxCrossEntropy(logits [N, C], labels i64 [N]) -> loss f32[]: mean over the batch of
// -log softmax(logits)[label], as PyTorch's F.cross_entropy with reduction="mean".
// fc.SoftmaxCrossEntropyGrad(logits, labels, dloss f32[]) -> dlogits [N, C] = (softmax - onehot) * dloss / N.
// Attribute `scale_count` (default 0): when > 0 the mean divides by this count instead of N (used by
// data-parallel training, where each rank holds N/R samples of a global batch).
#include "ir/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"

namespace fc::ir {

namespace {
void check_logits_labels(const InferContext& ctx) {
  FC_CHECK(ctx.in(0).rank() == 2, ctx.node.describe(), ": logits must be [N, classes], got ", to_string(ctx.in(0)));
  FC_CHECK(ctx.in(1).dtype == DType::I64 && ctx.in(1).rank() == 1, ctx.node.describe(),
           ": labels must be i64[N], got ", to_string(ctx.in(1)));
}
}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "SoftmaxCrossEntropy",
    .domain = "fc",
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = {{"scale_count", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      check_logits_labels(ctx);
      return {TensorType(ctx.in(0).dtype, {})};
    },
    .cost = elementwise_cost(4),
    .doc = "mean softmax cross-entropy of logits against int64 class labels",
    .gradient = [](GradBuilder& b) -> std::vector<Value*> {
      Value* d = b.emit1("SoftmaxCrossEntropyGrad", {b.x(0), b.x(1), b.dy(0)},
                         {{"scale_count", b.node().attr_int("scale_count")}}, "fc");
      return {d, nullptr};
    },
});

FC_REGISTER_OP(OpSchema{
    .name = "SoftmaxCrossEntropyGrad",
    .domain = "fc",
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = {{"scale_count", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      check_logits_labels(ctx);
      return {ctx.in(0)};
    },
    .cost = elementwise_cost(4),
    .doc = "gradient of fc.SoftmaxCrossEntropy with respect to the logits",
});

}  // namespace fc::ir
