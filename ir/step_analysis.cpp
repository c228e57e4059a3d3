#include "ir/step_analysis.h"

#include "ir/op_registry.h"

namespace fc::ir {

StepAnalysis analyze_step(const Graph& g, const Value* loss) {
  StepAnalysis a;
  const Node* loss_producer = loss ? loss->producer : nullptr;
  bool backward = false;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    Node* n = g.nodes()[i].get();
    a.position[n] = i;
    const OpKind kind = op_kind(*n);
    if (kind == OpKind::OptimizerUpdate) {
      a.phases.push_back(StepPhase::Update);
      // A horizontal fusion's inputs are its segments' inputs one after the other.
      const size_t segments = n->has_attr("segments") ? static_cast<size_t>(n->attr_int("segments")) : 1;
      const size_t per = n->inputs.size() / segments;
      for (size_t k = 0; k < segments; ++k)
        a.updates.push_back({n, n->inputs[k * per], n->inputs[k * per + kUpdateGradientInput]});
    } else if (kind == OpKind::Communication) {
      a.phases.push_back(StepPhase::Communication);
    } else {
      a.phases.push_back(backward ? StepPhase::Backward : StepPhase::Forward);
    }
    if (n == loss_producer) {
      backward = true;
      a.backward_begin = i + 1;
    }
  }
  return a;
}

}  // namespace fc::ir
