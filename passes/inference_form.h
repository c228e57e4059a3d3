// Puts a graph exported in training form into inference form, by each op record's TrainingForm
// (ir/op_registry.h; the trained-model export applies the same rules to ONNX): BatchNormalization
// with training_mode=1 normalises with its running statistics and drops its running-statistics
// outputs; Dropout with training_mode=1 becomes the identity; a loss the model ends in (graph_loss.h) gives
// way to the scores it reads, and its labels input goes. Used for evaluation and for `fcrun infer` of
// models exported with torch.onnx.TrainingMode.TRAINING.
#pragma once

#include "ir/graph.h"

namespace fc::passes {

void to_inference_form(ir::Graph& g);

}  // namespace fc::passes
