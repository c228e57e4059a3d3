#include "passes/graph_loss.h"

#include <algorithm>

#include "ir/op_registry.h"
#include "support/error.h"

namespace fc::passes {

std::optional<GraphLoss> find_graph_loss(const ir::Graph& g, const ir::Value* output) {
  if (!output || !output->producer) return std::nullopt;
  ir::Node* n = output->producer;
  if (ir::op_kind(*n) != ir::OpKind::Loss) return std::nullopt;
  ir::Value* labels = n->inputs.at(ir::kLossLabelsInput);
  FC_CHECK(std::find(g.inputs.begin(), g.inputs.end(), labels) != g.inputs.end(), n->describe(), ": labels '",
           labels->name, "' are computed inside the model; a loss used for training must read them from a graph input");
  return GraphLoss{n, n->outputs.at(0), n->inputs.at(ir::kLossScoresInput), labels};
}

void strip_graph_loss(ir::Graph& g) {
  std::vector<ir::Value*> labels;
  for (ir::Value*& o : g.outputs)
    if (auto loss = find_graph_loss(g, o)) {
      labels.push_back(loss->labels);
      o = loss->scores;
    }
  if (labels.empty()) return;
  g.remove_dead_nodes();
  for (ir::Value* l : labels) {
    bool read = false;
    for (const auto& n : g.nodes())
      read = read || std::find(n->inputs.begin(), n->inputs.end(), l) != n->inputs.end();
    if (!read) std::erase(g.inputs, l);
  }
}

std::vector<ir::Value*> data_inputs(const ir::Graph& g, const std::optional<GraphLoss>& graph_loss) {
  std::vector<ir::Value*> data;
  for (ir::Value* v : g.inputs)
    if (!graph_loss || v != graph_loss->labels) data.push_back(v);
  return data;
}

std::string describe_values(const std::vector<ir::Value*>& values) {
  std::string s;
  for (const ir::Value* v : values) s += std::string(s.empty() ? "" : ", ") + "'" + v->name + "' " + ir::to_string(v->type);
  return s;
}

}  // namespace fc::passes
