// From a recipe to the training pipeline's typed options (passes/training_graph.h). The recipe's
// keys are checked here, at the edge: the keys that name parts of the model ([model] input, output,
// loss, label_smoothing) against the imported model, with the key in the message; the passes then
// receive options they need not question.
#pragma once

#include "ir/graph.h"
#include "passes/training_graph.h"
#include "runtime/recipe.h"

namespace fc::cli {

// Throws fc::Error "[model] <key>: ..." when a key does not fit `model` (the imported ONNX model).
void check_model_keys(const runtime::Recipe& r, const ir::Graph& model);

// The pipeline options the recipe asks for (check_model_keys first).
passes::TrainingConfig training_config(const runtime::Recipe& r);

}  // namespace fc::cli
