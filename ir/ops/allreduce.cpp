// fc.AllReduce(g1, ..., gk) {algorithm, bucket, predicted_comm_us, predicted_exposed_us}
//   -> (g1', ..., gk'): sums each input across the
// data-parallel ranks. Inserted by the bucketing pass (passes/allreduce_buckets.h) between the
// gradients a bucket holds and their optimizer updates; the runtime issues it as soon as its
// inputs are ready. With one rank it is the identity. The predicted_* attributes are the bucketing
// pass's cost-model figures (for --explain and for readers of the plan); they change nothing at run time.
#include "support/error.h"
#include "ir/op_helpers.h"

namespace fc::ir {

FC_REGISTER_OP(OpSchema{
    .name = "AllReduce",
    .domain = "fc",
    .min_inputs = 1,
    .max_inputs = 1 << 20,
    .min_outputs = 1,
    .max_outputs = 1 << 20,
    .attrs = {{"algorithm", AttrKind::String, Attribute{std::string("auto")}},
              {"bucket", AttrKind::Int, Attribute{int64_t{0}}},
              {"predicted_comm_us", AttrKind::Float, Attribute{0.0f}},
              {"predicted_exposed_us", AttrKind::Float, Attribute{0.0f}}},
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      FC_CHECK(ctx.node.outputs.size() == ctx.num_inputs(), ctx.node.describe(), ": needs one output per input");
      for (size_t i = 0; i < ctx.num_inputs(); ++i)
        FC_CHECK(ctx.in(i).dtype == DType::F32, ctx.node.describe(), ": input ", i, " must be f32");
      return ctx.inputs;
    },
    .cost = [](const InferContext& ctx, const std::vector<TensorType>&) {
      OpCost c;
      for (size_t i = 0; i < ctx.num_inputs(); ++i)
        if (ctx.in(i).is_concrete()) c.bytes += 2.0 * double(ctx.in(i).numel()) * 4;
      return c;
    },
    .doc = "sum of a bucket of gradients across data-parallel ranks",
    .kind = OpKind::Communication,
});

}  // namespace fc::ir
