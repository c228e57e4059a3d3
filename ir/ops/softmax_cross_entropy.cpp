// fc.SoftmaxCrossEntropy(logits [N, C], labels i64 [N]) -> loss f32[]: the mean (or sum) over the
// batch of -log softmax(logits)[label], as PyTorch's F.cross_entropy and ONNX SoftmaxCrossEntropyLoss
// (which the importer normalises into this op).
// fc.SoftmaxCrossEntropyGrad(logits, labels, dloss f32[]) -> dlogits [N, C] = (softmax - onehot) * dloss / D.
// Attributes:
//   reduction     "mean" (D = number of kept labels) or "sum" (D = 1)
//   ignore_index  rows whose label equals it contribute nothing (default kNoIgnoreIndex: none)
//   scale_count   when > 0, "mean" divides by this count instead (data-parallel training, where each
//                 rank holds N/R samples of a global batch of scale_count)
#include "ir/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/ops/softmax_cross_entropy.h"

namespace fc::ir {

namespace {
const std::vector<AttrSpec> kLossAttrs = {
    {"scale_count", AttrKind::Int, Attribute{int64_t{0}}},
    {"reduction", AttrKind::String, Attribute{std::string("mean")}},
    {"ignore_index", AttrKind::Int, Attribute{kNoIgnoreIndex}},
};

void check_logits_labels(const InferContext& ctx) {
  FC_CHECK(ctx.in(0).rank() == 2, ctx.node.describe(), ": logits must be [N, classes], got ", to_string(ctx.in(0)));
  FC_CHECK(ctx.in(1).dtype == DType::I64 && ctx.in(1).rank() == 1, ctx.node.describe(),
           ": labels must be i64[N], got ", to_string(ctx.in(1)));
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
                          {"ignore_index", n.attr_int("ignore_index")}},
                         "fc");
      return {d, nullptr};
    },
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

}  // namespace fc::ir
