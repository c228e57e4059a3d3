// Loss fusion (see loss_fusion.h).
#include "passes/loss_fusion.h"

#include <vector>

namespace fc::passes {
namespace {

using ir::Node;
using ir::Value;

bool is_fc(const Node& n, const char* op) { return n.domain == "fc" && n.op == op; }

// Whether the loss node at `loss_at` and the gradient node at `grad_at` (later) can become one node
// at the gradient's place: same logits, labels and attributes, and no node in between reads the
// loss. Then nothing before the gradient depends on the loss, so neither does its dloss (its
// producer comes before it), unless dloss is the loss itself.
bool fusable(const ir::Graph& g, size_t loss_at, size_t grad_at) {
  const Node& loss = *g.nodes()[loss_at];
  const Node& grad = *g.nodes()[grad_at];
  if (loss.inputs[0] != grad.inputs[0] || loss.inputs[1] != grad.inputs[1]) return false;
  for (const char* a : {"scale_count", "ignore_index"})
    if (loss.attr_int(a) != grad.attr_int(a)) return false;
  if (loss.attr_string("reduction") != grad.attr_string("reduction")) return false;
  if (loss.attr_float("label_smoothing") != grad.attr_float("label_smoothing")) return false;
  if (grad.inputs[2] == loss.outputs[0]) return false;
  for (size_t i = loss_at + 1; i < grad_at; ++i)
    for (const Value* v : g.nodes()[i]->inputs)
      if (v == loss.outputs[0]) return false;
  return true;
}

}  // namespace

int64_t fuse_loss_gradient(ir::Graph& g) {
  int64_t fused = 0;
  for (bool again = true; again;) {
    again = false;
    for (size_t grad_at = 0; grad_at < g.nodes().size() && !again; ++grad_at) {
      if (!is_fc(*g.nodes()[grad_at], "SoftmaxCrossEntropyGrad")) continue;
      for (size_t loss_at = 0; loss_at < grad_at && !again; ++loss_at) {
        if (!is_fc(*g.nodes()[loss_at], "SoftmaxCrossEntropy") || !fusable(g, loss_at, grad_at)) continue;
        Node* loss = g.nodes()[loss_at].get();
        Node* grad = g.nodes()[grad_at].get();
        const Node* next = grad_at + 1 < g.nodes().size() ? g.nodes()[grad_at + 1].get() : nullptr;
        const std::vector<Value*> inputs = grad->inputs;
        const std::vector<Value*> outputs = {loss->outputs[0], grad->outputs[0]};
        const auto attrs = grad->attrs;
        const std::string name = g.unique_node_name(loss->name + "/and_grad");
        g.remove_node(loss);
        g.remove_node(grad);
        Node* both = g.add_node("SoftmaxCrossEntropyAndGrad", inputs, outputs, attrs, name);
        both->domain = "fc";
        if (next) g.move_before(both, next);
        ++fused;
        again = true;  // positions changed
      }
    }
  }
  return fused;
}

}  // namespace fc::passes
