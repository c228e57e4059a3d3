// Which ops the unit tests check against a reference, recorded while they run, so that a test can
// hold the registry to it (op_coverage_test.cpp): every op has a forward reference case, found
// from the name of the ir/ops file that defines it.
#pragma once

#include <string>

#include "ir/graph.h"

namespace fc::test {

// A forward reference case ran `domain`.`op` (a test in file `where` compares its outputs with values
// computed another way: float64 formulas, hand values, an unfused graph).
void note_forward_case(const std::string& domain, const std::string& op, const char* where);
// A finite-difference case checked the gradient of `op` (at `where`); `vjp` is the graph it ran,
// whose gradient nodes are thereby checked against central differences.
void note_gradient_case(const ir::Node& op, const ir::Graph& vjp, const char* where);

}  // namespace fc::test
