// One reading of a training step's graph, shared by the bucketing pass, the scaling simulator, the
// executor's trace categories and the training pipeline (each had derived it on its own): the phase
// of every node, and which gradient each optimizer update reads for which parameter.
#pragma once

#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace fc::ir {

enum class StepPhase { Forward, Backward, Update, Communication };

// One parameter's update; a horizontal fusion (fc.HorizontalFused) of updates holds several, one
// per segment of its inputs.
struct UpdateSlot {
  Node* update = nullptr;
  Value* parameter = nullptr;  // the segment's input 0
  Value* gradient = nullptr;   // the segment's input kUpdateGradientInput
};

struct StepAnalysis {
  std::vector<StepPhase> phases;                     // per node, in graph order
  std::unordered_map<const Node*, size_t> position;  // node -> its index in graph order
  std::vector<UpdateSlot> updates;                   // in graph order
  // Index of the first node after the loss's producer, where backward starts (0 without a loss).
  size_t backward_begin = 0;
  StepPhase phase_of(const Node* n) const { return phases[position.at(n)]; }
};

// Optimizer updates (ir::op_kind) are Update and allreduces Communication wherever they sit; of the
// other nodes, those up to and including the producer of `loss` are Forward, the rest Backward. With
// no loss (null, or a value no node produces) every other node is Forward.
StepAnalysis analyze_step(const Graph& g, const Value* loss);

}  // namespace fc::ir
