#include "passes/inference_form.h"

#include "ir/op_registry.h"
#include "passes/graph_loss.h"
#include "support/error.h"

namespace fc::passes {

void to_inference_form(ir::Graph& g) {
  for (const auto& n : g.nodes()) {
    if (!n->domain.empty() || !n->has_attr("training_mode") || n->attr_int("training_mode") == 0) continue;
    const ir::OpSchema* schema = ir::OpRegistry::global().find(n->op);
    if (!schema || !schema->training_form) continue;
    n->attrs["training_mode"] = int64_t{0};
    const size_t kept = schema->training_form->inference_outputs;
    for (size_t i = kept; i < n->outputs.size(); ++i)
      for (ir::Value* o : g.outputs)
        FC_CHECK(o != n->outputs[i], n->describe(), ": output '", n->outputs[i]->name,
                 "' (training only) is a graph output; cannot evaluate");
    if (kept < n->outputs.size()) {
      for (size_t i = kept; i < n->outputs.size(); ++i) n->outputs[i]->producer = nullptr;
      n->outputs.resize(kept);
    }
  }
  g.remove_dead_nodes();
  strip_graph_loss(g);
}

}  // namespace fc::passes
