// Models that end in their own loss: an ONNX SoftmaxCrossEntropyLoss node (imported as
// fc.SoftmaxCrossEntropy) computing a graph output from the model's scores and a labels graph
// input. Training uses that loss as it is; inference and evaluation use the scores.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace fc::passes {

struct GraphLoss {
  ir::Node* node = nullptr;
  ir::Value* loss = nullptr;    // the graph output
  ir::Value* scores = nullptr;  // the logits the loss reads
  ir::Value* labels = nullptr;  // a graph input
};

// The loss computing `output`, if `output` is one. Throws fc::Error when the loss's labels are not a
// graph input (they could not be fed).
std::optional<GraphLoss> find_graph_loss(const ir::Graph& g, const ir::Value* output);

// Replaces every graph output computed by a graph loss with the loss's scores and drops the labels
// inputs that nothing reads any more: the model as used for prediction.
void strip_graph_loss(ir::Graph& g);

// The model's data inputs: every graph input but its own loss's labels.
std::vector<ir::Value*> data_inputs(const ir::Graph& g, const std::optional<GraphLoss>& graph_loss);
// "'x' f32[N,3,32,32], 'y' i64[N]": inputs named with their types, for messages.
std::string describe_values(const std::vector<ir::Value*>& values);

}  // namespace fc::passes
