// Training-mode batch normalisation with PyTorch semantics (the training pass rewrites every
// BatchNormalization node into this op):
//   fc.BatchNormTraining(X [N, C, ...], scale [C], B [C], running_mean [C], running_var [C])
//       {epsilon, momentum (PyTorch convention)}
//     -> Y, running_mean', running_var', saved_mean [C], saved_invstd [C]
//   batch statistics over N and the spatial dims, Y = (X - mean) * invstd * scale + B with the biased
//   variance, running = (1 - momentum) * running + momentum * batch with the UNBIASED variance.
//   fc.BatchNormTrainingGrad(dY, X, scale, saved_mean, saved_invstd) -> dX, dscale, dB
// Attribute `sync` (both ops): statistics and gradient sums are reduced across the data-parallel
// ranks (runtime/data_parallel.h), so N ranks compute what one rank computes with the whole batch.
// Attribute `relu` (forward): Y = max(Y, 0), a following Relu folded in by the fusion pass
// (passes/elementwise_fusion.h) after autodiff, so a folded node never has its gradient taken.
#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"

namespace fc::ir {

namespace {
std::vector<TensorType> bn_types(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  FC_CHECK(x.rank() >= 2, ctx.node.describe(), ": input must be [N, C, ...], got ", to_string(x));
  TensorType per_channel(x.dtype, {x.dims[1]});
  return {x, per_channel, per_channel, per_channel, per_channel};
}
}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "BatchNormTraining",
    .domain = "fc",
    .min_inputs = 5,
    .max_inputs = 5,
    .min_outputs = 5,
    .max_outputs = 5,
    .attrs = {{"epsilon", AttrKind::Float, Attribute{1e-5f}},
              {"momentum", AttrKind::Float, Attribute{0.1f}},
              {"sync", AttrKind::Int, Attribute{int64_t{0}}},
              {"relu", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = bn_types,
    .cost = elementwise_cost(8),
    .doc = "batch normalisation with batch statistics and running-statistics update (PyTorch semantics)",
    .gradient = [](GradBuilder& b) -> std::vector<Value*> {
      FC_CHECK(b.node().attr_int("relu") == 0, b.node().describe(), ": has a folded Relu (fusion runs after autodiff)");
      auto d = b.emit("BatchNormTrainingGrad", {b.dy(0), b.x(0), b.x(1), b.y(3), b.y(4)},
                      {{"sync", b.node().attr_int("sync")}}, 3, "fc");
      return {d[0], d[1], d[2], nullptr, nullptr};
    },
});

FC_REGISTER_OP(OpSchema{
    .name = "BatchNormTrainingGrad",
    .domain = "fc",
    .min_inputs = 5,
    .max_inputs = 5,
    .min_outputs = 3,
    .max_outputs = 3,
    .attrs = {{"sync", AttrKind::Int, Attribute{int64_t{0}}}},
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      const TensorType& x = ctx.in(1);
      TensorType per_channel(x.dtype, {x.dims[1]});
      return {x, per_channel, per_channel};
    },
    .cost = elementwise_cost(8),
    .doc = "gradient of fc.BatchNormTraining",
});

}  // namespace fc::ir
