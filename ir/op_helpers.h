// Small building blocks for op schemas: common shape functions and cost functions.
#pragma once

#include "ir/op_registry.h"

namespace fc::ir {

// Output 0 has the type of input 0 (unary elementwise ops, activations, normalisations).
std::vector<TensorType> same_as_input0(const InferContext& ctx);
// Output 0 is the broadcast of every present input, with input 0's element type.
std::vector<TensorType> broadcast_inputs(const InferContext& ctx);
// A gradient op's input `dy` must be shaped like its forward op's output `want` (dims known in both
// equal); the one-line error names the node.
void check_shaped_like_output(const InferContext& ctx, const TensorType& dy, const TensorType& want);
// Cost of an elementwise op doing `flops_per_element` operations per output element.
CostFn elementwise_cost(double flops_per_element);

}  // namespace fc::ir
