// Saves max pooling's window choices for the backward: a MaxPool with an fc.MaxPoolGrad that
// autodiff made for it (Node::gradient_of) becomes fc.MaxPoolTraining, which outputs y and argmax (each window's first maximum as an i32 offset in
// x's plane, ir/ops/pool.cpp), and that fc.MaxPoolGrad reads argmax instead of searching x again.
// Both find the maximum with the same search (runtime/cpu/kernels/pool_windows.h), so results do not
// change. Planes of 2^31 elements or more keep the search (offsets are i32). Runs after autodiff.
#pragma once

#include <cstdint>

#include "ir/graph.h"

namespace fc::passes {

// How many MaxPools now record their argmax.
int64_t save_pool_argmax(ir::Graph& g);

}  // namespace fc::passes
