// Axis resolution shared by the Reduce* op records (ir/ops/reduce.cpp) and their kernels.
#pragma once

#include <vector>

#include "ir/graph.h"

namespace fc::ir {

// Which of the `rank` input dimensions a ReduceSum/Mean/Max/Min node reduces, from its attributes
// `axes` (negative counts from the end; absent or empty: every axis, or none when
// noop_with_empty_axes = 1). Throws fc::Error naming the node for an out-of-range or repeated axis.
std::vector<bool> reduced_axes(const Node& node, int64_t rank);

}  // namespace fc::ir
