// Saved forward outputs for the backward: where a gradient rule offered to read an output of its
// forward node's training form (ir::SavedOutputOffer: max pooling's window choices, which spare
// fc.MaxPoolGrad its search of x), the forward node becomes that training form, its outputs the
// forward's and then the saved ones, and each offering gradient node reads its saved output as an
// extra last input. Offers whose nodes are gone by then are skipped. Results do not change (the rule
// offers only what gives the same bits). The pipeline runs it after step-io.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/grad_builder.h"
#include "ir/graph.h"

namespace fc::passes {

// How many forward nodes now save outputs for their gradients.
int64_t apply_saved_outputs(ir::Graph& g, const std::vector<ir::SavedOutputOffer>& offers);

}  // namespace fc::passes
