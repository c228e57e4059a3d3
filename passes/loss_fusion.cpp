// Loss fusion (see loss_fusion.h).
#include "passes/loss_fusion.h"

#include <algorithm>
#include <vector>

namespace fc::passes {
namespace {

using ir::Node;
using ir::Value;

bool is_fc(const Node& n, const char* op) { return n.domain == "fc" && n.op == op; }

// Whether `loss` and its gradient `grad` (autodiff's, Node::gradient_of) can become one node at the
// gradient's place: no node in between reads the loss. Then nothing before the gradient depends
// on the loss, so neither does its dloss (its producer comes before it), unless dloss is the loss
// itself.
bool fusable(const ir::Graph& g, const Node& loss, const Node& grad) {
  if (grad.inputs[2] == loss.outputs[0]) return false;
  const auto position = g.node_positions();
  const size_t loss_at = position.at(&loss), grad_at = position.at(&grad);
  if (loss_at >= grad_at) return false;
  for (size_t i = loss_at + 1; i < grad_at; ++i)
    for (const Value* v : g.nodes()[i]->inputs)
      if (v == loss.outputs[0]) return false;
  return true;
}

}  // namespace

int64_t fuse_loss_gradient(ir::Graph& g) {
  std::vector<Node*> grads;
  for (const auto& n : g.nodes())
    if (is_fc(*n, "SoftmaxCrossEntropyGrad") && n->gradient_of && is_fc(*n->gradient_of, "SoftmaxCrossEntropy"))
      grads.push_back(n.get());
  int64_t fused = 0;
  for (Node* grad : grads) {
    Node* loss = grad->gradient_of;
    if (!loss || !fusable(g, *loss, *grad)) continue;  // a loss with a second gradient: fused once
    const size_t grad_at = g.node_positions().at(grad);
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
  }
  return fused;
}

}  // namespace fc::passes
