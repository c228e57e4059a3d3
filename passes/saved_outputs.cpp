// Saved forward outputs (see saved_outputs.h).
#include "passes/saved_outputs.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "ir/op_registry.h"
#include "support/error.h"

namespace fc::passes {

using ir::Node;
using ir::Value;

int64_t apply_saved_outputs(ir::Graph& g, const std::vector<ir::SavedOutputOffer>& offers) {
  std::map<std::string, const ir::SavedOutputOffer*> offer_of_grad;
  for (const ir::SavedOutputOffer& o : offers) offer_of_grad[o.grad] = &o;
  std::map<std::string, Node*> by_name;
  for (const auto& n : g.nodes()) by_name[n->name] = n.get();
  // Each forward node with its offering gradient nodes, in graph order.
  std::map<Node*, std::vector<Node*>> grads_of;
  std::map<Node*, const ir::SavedOutputOffer*> offer_of;
  std::vector<std::pair<Node*, const ir::SavedOutputOffer*>> forwards;
  for (const auto& grad : g.nodes()) {
    auto o = offer_of_grad.find(grad->name);
    if (o == offer_of_grad.end()) continue;
    auto f = by_name.find(o->second->forward);
    if (f == by_name.end() || grad->gradient_of != f->second) continue;
    Node* forward = f->second;
    if (grads_of[forward].empty()) {
      forwards.emplace_back(forward, o->second);
      offer_of[forward] = o->second;
    }
    // One training form per forward node: its gradient rule makes every offer of it.
    FC_ASSERT(offer_of[forward]->training_op == o->second->training_op && offer_of[forward]->output == o->second->output);
    grads_of[forward].push_back(grad.get());
  }
  for (const auto& entry : forwards) {
    Node* const forward = entry.first;  // not a structured binding: clang 14's lambdas cannot capture one
    const ir::SavedOutputOffer* const offer = entry.second;
    FC_ASSERT(offer->output == forward->outputs.size());  // the saved output follows the forward's
    std::vector<Value*> outputs = forward->outputs;
    outputs.push_back(g.add_value(g.unique_name(forward->outputs[0]->name + "/" + offer->name), {}));
    const std::vector<Value*> inputs = forward->inputs;
    const auto attrs = forward->attrs;
    const std::string name = forward->name;
    const auto at = std::find_if(g.nodes().begin(), g.nodes().end(), [&](const auto& n) { return n.get() == forward; });
    const Node* next = at + 1 != g.nodes().end() ? (at + 1)->get() : nullptr;
    g.remove_node(forward);
    Node* training = ir::add_node_inferred(g, offer->training_op, offer->domain, inputs, outputs, attrs, name);
    if (next) g.move_before(training, next);
    for (Node* grad : grads_of[forward]) grad->inputs.push_back(outputs.back());
    // Every gradient of the forward node now came from its training form (provenance stays whole).
    for (const auto& n : g.nodes())
      if (n->gradient_of == forward) n->gradient_of = training;
  }
  return static_cast<int64_t>(forwards.size());
}

}  // namespace fc::passes
