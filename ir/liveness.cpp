#include "ir/liveness.h"

namespace fc::ir {

std::unordered_map<const Value*, int> last_uses(const Graph& graph) {
  std::unordered_map<const Value*, int> last;
  int i = 0;
  for (const auto& n : graph.nodes()) {
    for (const Value* in : n->inputs)
      if (in) last[in] = i;
    ++i;
  }
  for (const Value* o : graph.outputs) last[o] = kLivesPastStep;
  for (const auto& [param, next] : graph.state_updates) last[next] = kLivesPastStep;
  for (const auto& [acc, sum] : graph.accumulations) last[sum] = kLivesPastStep;
  return last;
}

}  // namespace fc::ir
