// One node's scalar form (OpSchema::scalar) as a whole fused kernel: what the CPU backend compiles
// for an op that has no hand-written kernel (the optimizer updates), and the per-segment program of
// a horizontally fused node (ir/ops/horizontal_fused.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "ir/fused_kernel.h"
#include "ir/graph.h"

namespace fc::ir {

// The kernel computing every output of `n` from its inputs, in the node's order: input i of the
// kernel is input i of the node (a table where the op lists it in OpSchema::table_inputs, loaded
// otherwise), output j is output j. Shapes may be left empty (scalar) when only the program text
// (FusedKernel::body_text) is wanted. Throws fc::Error naming the node if its op has no scalar form.
FusedKernel node_kernel(const Node& n, const std::vector<std::vector<int64_t>>& input_shapes = {},
                        const std::vector<int64_t>& out_shape = {});

// Whether `n` is an optimizer update (ir::op_kind: fc.SGDUpdate, fc.AdamWUpdate, fc.LarsUpdate,
// fc.LambUpdate, or an fc.HorizontalFused repeating one): the scaling simulator's and the trace's
// "update" phase.
bool is_optimizer_update(const Node& n);

}  // namespace fc::ir
