// Reverse-mode automatic differentiation as a graph -> graph pass. Walks the forward nodes in
// reverse topological order, calls each op's gradient rule (OpSchema::gradient, written as IR) for
// nodes on a path from a differentiated parameter to the loss, and accumulates fan-out partials in
// one GradAccumulator. Gradients are computed only where needed: never for data inputs, integer
// tensors, or parameters not in `wrt`.
#pragma once

#include <map>
#include <vector>

#include "ir/grad_builder.h"
#include "ir/graph.h"

namespace fc::passes {

struct Gradients {
  std::map<const ir::Value*, ir::Value*> of;  // parameter -> its gradient value
  std::vector<const ir::Value*> unused;       // members of wrt with no path to the loss
  // What gradient rules offered to read from their forward nodes' training forms (ir/grad_builder.h):
  // the caller's to apply (passes/saved_outputs.h) or not.
  std::vector<ir::SavedOutputOffer> saved_output_offers;
};

// `loss` must be a float scalar. Throws fc::Error naming the node whose op has no gradient rule.
Gradients build_gradients(ir::Graph& g, ir::Value* loss, const std::vector<ir::Value*>& wrt);

// Vector-Jacobian products: gradients of sum_k <seed_k, output_k> with respect to `wrt`, where each
// seed has its output's type. build_gradients is this with the seed 1 for the loss.
Gradients build_vjp(ir::Graph& g, const std::vector<std::pair<ir::Value*, ir::Value*>>& output_seeds,
                    const std::vector<ir::Value*>& wrt);

}  // namespace fc::passes
