// fc.DropoutTraining(x, rng i64[2] = [seed, step]) {ratio, stream} -> (y, scale)
// Training-mode dropout with a counter-based RNG: element i of node `stream` at step t is kept when
// hash(seed, t, stream, i) >= ratio, independent of thread count and batch order, so runs are
// reproducible and resumable. scale holds 1/(1-ratio) for kept elements and 0 for dropped ones;
// y = x * scale and the gradient is dy * scale.
#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"

namespace fc::ir {

FC_REGISTER_OP(OpSchema{
    .name = "DropoutTraining",
    .domain = "fc",
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 2,
    .max_outputs = 2,
    .attrs = {{"ratio", AttrKind::Float, Attribute{0.5f}}, {"stream", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      FC_CHECK(ctx.in(1).dtype == DType::I64, ctx.node.describe(), ": rng input must be i64[2]");
      float r = ctx.node.attr_float("ratio");
      FC_CHECK(r >= 0.0f && r < 1.0f, ctx.node.describe(), ": ratio ", r, " must be in [0, 1)");
      return {ctx.in(0), ctx.in(0)};
    },
    .cost = elementwise_cost(3),
    .doc = "training-mode dropout with a counter-based RNG",
    .gradient = [](GradBuilder& b) -> std::vector<Value*> {
      return {b.emit1("Mul", {b.dy(0), b.y(1)}), nullptr};
    },
});

}  // namespace fc::ir
