// The training plan file (.fcplan): a standard ONNX ModelProto, so existing tools open it.
//   graph            the user's model in inference form (weights as initializers at their
//                    initial values), exactly as imported: fcrun can evaluate and export from it
//   training_info[0] algorithm = the training-step IR graph (every IR node as an ONNX node in the
//                    project domains "ai.fcc.onnx" (IR domain "") and "ai.fcc" (IR domain "fc"),
//                    attributes as ONNX attributes, value types as value_info with the batch as a
//                    dim_param); its initializers are the parameters the inference graph lacks
//                    (optimizer state); update_binding = Graph::state_updates
//                    (Graph::accumulations in metadata fc.train.accumulations)
//   metadata_props   fc.plan_version, fc.recipe (TOML text), fc.recipe_path, fc.io.* names,
//                    fc.hash (hash of everything else; checked at load and across ranks)
// fcrun never needs the original ONNX file or the recipe to run a plan.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace fc::frontend {

struct PlanMeta {
  std::string recipe_text;  // the recipe as written
  std::string recipe_path;  // where it was (relative paths in it resolve against its folder)
  std::vector<std::string> overrides;  // --set section.key=value given at compile time
  std::string data_input, labels_input, loss_output, model_output;
};

struct Plan {
  ir::Graph train;
  ir::Graph inference;
  PlanMeta meta;
  std::string hash;
};

// `source_onnx`: the model file the training graph was built from (embedded as the main graph).
void save_plan(const std::string& path, const std::string& source_onnx, const ir::Graph& train, const PlanMeta& meta);
Plan load_plan(const std::string& path);  // throws fc::Error naming the file
bool is_plan_file(const std::string& path);  // by content (an ONNX model with fc.plan_version)

}  // namespace fc::frontend
