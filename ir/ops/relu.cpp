// Relu: y = max(x, 0). (Exemplar of an op record: schema, shape function, cost, gradient rule,
// scalar form for fused kernels.)
// Gradient: fc.ReluGrad(dy, y) = y > 0 ? dy : 0, from the output as PyTorch's threshold_backward,
// so x need not be kept for backward (ir/ops/elementwise_grads.cpp).
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"

namespace fc::ir {

FC_REGISTER_OP(OpSchema{
    .name = "Relu",
    .onnx_versions = {1, 6, 13, 14},
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = same_as_input0,
    .cost = elementwise_cost(1),
    .doc = "max(x, 0)",
    .gradient = [](GradBuilder& b) -> std::vector<Value*> {
      return {b.emit1("ReluGrad", {b.dy(0), b.y(0)}, {}, "fc")};
    },
    .scalar = [](FusedKernel& k, const Node&, const std::vector<int>& in) -> std::vector<int> {
      return {k.relu(in[0])};
    },
});

}  // namespace fc::ir
