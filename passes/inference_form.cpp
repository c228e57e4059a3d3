#include "passes/inference_form.h"

#include "support/error.h"
#include "passes/graph_loss.h"

namespace fc::passes {

void to_inference_form(ir::Graph& g) {
  for (const auto& n : g.nodes()) {
    if (!n->domain.empty()) continue;
    if ((n->op == "BatchNormalization" || n->op == "Dropout") && n->has_attr("training_mode") &&
        n->attr_int("training_mode") != 0) {
      n->attrs["training_mode"] = int64_t{0};
      if (n->op == "BatchNormalization") {
        for (size_t i = 1; i < n->outputs.size(); ++i)
          for (ir::Value* o : g.outputs)
            FC_CHECK(o != n->outputs[i], n->describe(), ": running statistics are a graph output; cannot evaluate");
        for (size_t i = 1; i < n->outputs.size(); ++i) n->outputs[i]->producer = nullptr;
        n->outputs.resize(1);
      }
    }
  }
  g.remove_dead_nodes();
  strip_graph_loss(g);
}

}  // namespace fc::passes
