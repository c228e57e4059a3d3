// Liveness over a graph's node order, the one definition the executor's memory plan
// (runtime/step_memory.h) and the cost model's activation peak (passes/graph_cost.h) share.
#pragma once

#include <climits>
#include <unordered_map>

#include "ir/graph.h"

namespace fc::ir {

// Marks a value that outlives the step: a graph output, new training state, an accumulated sum.
inline constexpr int kLivesPastStep = INT_MAX;

// Position of the last node reading each value read by a node (kLivesPastStep for what outlives
// the step); values nothing reads are absent.
std::unordered_map<const Value*, int> last_uses(const Graph& graph);

}  // namespace fc::ir
