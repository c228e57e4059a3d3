// Structural and type checks of a graph: every input defined before use, single producer per value,
// known ops with valid input/output counts and attribute kinds, value types equal to what the op's
// shape function infers. Throws fc::Error naming the first offending node.
#pragma once

#include "ir/graph.h"

namespace fc::ir {

void verify(const Graph& g);

}  // namespace fc::ir
