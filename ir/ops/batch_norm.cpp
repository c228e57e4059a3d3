// BatchNormalization (ONNX opset 15 semantics), x: [N, C, D1..Dk] (k >= 0), per-channel [C] inputs.
//   training_mode = 0: y = scale * (x - mean) / sqrt(var + epsilon) + B; one output.
//   training_mode = 1: normalises with the batch statistics (mean and population variance over N and
//     the spatial axes) and also returns running_mean = mean * momentum + batch_mean * (1 - momentum),
//     running_var likewise with the batch variance: outputs y [, running_mean, running_var].
// Gradient (training_mode = 0 only: a frozen BatchNorm whose statistics are inputs, not batch
// statistics; the training pass turns normalising BatchNorms into fc.BatchNormTraining):
//   fc.BatchNormInferenceGrad(dy, X, scale, mean, var) {epsilon} -> dX, dscale, dB, dmean, dvar
//   with invstd = 1 / sqrt(var + epsilon) and sums over N and the spatial axes:
//   dX = dy * scale * invstd, dB = sum dy, dscale = invstd * sum dy (X - mean),
//   dmean = -scale * invstd * sum dy, dvar = -scale * invstd^3 / 2 * sum dy (X - mean)
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"

namespace fc::ir {
namespace {

std::vector<TensorType> infer_batch_norm(const InferContext& ctx) {
  const Node& node = ctx.node;
  const TensorType& x = ctx.in(0);
  FC_CHECK(x.dtype == DType::F32, node.describe(), ": only f32 is supported");
  FC_CHECK(x.rank() >= 2, node.describe(), ": input must be [N, C, ...], is ", to_string(x));
  const int64_t training = node.attr_int("training_mode");
  FC_CHECK(training == 0 || training == 1, node.describe(), ": training_mode must be 0 or 1");
  FC_CHECK(training == 1 || node.outputs.size() == 1, node.describe(),
           ": running_mean/running_var outputs need training_mode=1");
  const char* names[] = {"scale", "B", "mean", "var"};
  for (size_t i = 1; i < 5; ++i) {
    const TensorType& p = ctx.in(i);
    bool ok = p.dtype == DType::F32 && p.rank() == 1 &&
              (!p.dims[0].is_known() || !x.dims[1].is_known() || p.dims[0] == x.dims[1]);
    FC_CHECK(ok, node.describe(), ": ", names[i - 1], " ", to_string(p), " must be f32[C] with C = ",
             to_string(x.dims[1]));
  }
  TensorType stat(DType::F32, {x.dims[1]});
  return {x, stat, stat};
}

// Inference folds to one multiply-add per element; training adds the two statistics passes.
OpCost batch_norm_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  const double n = double(ctx.in(0).numel());
  const bool training = ctx.node.attr_int("training_mode") == 1;
  double bytes = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) bytes += 4.0 * double(ctx.in(i).numel());
  for (const TensorType& t : outs) bytes += 4.0 * double(t.numel());
  return {(training ? 6.0 : 2.0) * n, bytes};
}

std::vector<Value*> batch_norm_gradient(GradBuilder& b) {
  const Node& n = b.node();
  FC_CHECK(n.attr_int("training_mode") == 0, n.describe(),
           ": training_mode=1 has no gradient rule here (training graphs use fc.BatchNormTraining)");
  return b.emit("BatchNormInferenceGrad", {b.dy(0), b.x(0), b.x(1), b.x(3), b.x(4)},
                {{"epsilon", n.attr_float("epsilon")}}, 5, "fc");
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "BatchNormalization",
    .onnx_versions = {1, 6, 7, 9, 14, 15},
    .min_inputs = 5,
    .max_inputs = 5,
    .min_outputs = 1,
    .max_outputs = 3,
    .attrs = {{"epsilon", AttrKind::Float, Attribute(1e-5f)},
              {"momentum", AttrKind::Float, Attribute(0.9f)},
              {"training_mode", AttrKind::Int, Attribute(int64_t{0})}},
    .infer = infer_batch_norm,
    .cost = batch_norm_cost,
    .doc = "per-channel normalisation with given (inference) or batch (training_mode=1) statistics",
    .gradient = batch_norm_gradient,
    .training_form = TrainingForm{.inference_outputs = 1},  // running mean and variance go
});

FC_REGISTER_OP(OpSchema{
    .name = "BatchNormInferenceGrad",
    .domain = "fc",
    .min_inputs = 5,
    .max_inputs = 5,
    .min_outputs = 5,
    .max_outputs = 5,
    .attrs = {{"epsilon", AttrKind::Float, Attribute(1e-5f)}},
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      const TensorType& x = ctx.in(1);
      FC_CHECK(x.dtype == DType::F32 && x.rank() >= 2 && ctx.in(0).dtype == DType::F32 && ctx.in(0).rank() == x.rank(),
               ctx.node.describe(), ": output gradient ", to_string(ctx.in(0)), " and input ", to_string(x),
               " must be f32[N, C, ...] of one shape");
      TensorType stat(DType::F32, {x.dims[1]});
      return {x, stat, stat, stat, stat};
    },
    .cost = [](const InferContext& ctx, const std::vector<TensorType>&) {
      const double n = double(ctx.in(1).numel());
      return OpCost{5.0 * n, 12.0 * n};
    },
    .doc = "gradient of BatchNormalization with given statistics: (dy, X, scale, mean, var) -> dX, dscale, dB, "
           "dmean, dvar",
});

}  // namespace fc::ir
