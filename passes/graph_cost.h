// Per-node and total FLOP/byte cost of a graph at a concrete batch size, from each op's cost
// function. Symbolic batch dimensions are bound to `batch` and types re-inferred along the way
// (the graph itself is not modified).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op_registry.h"

namespace fc::passes {

struct NodeCost {
  const ir::Node* node;
  ir::OpCost cost;
  std::vector<ir::TensorType> outputs;  // concrete output types at this batch
};

struct GraphCost {
  std::vector<NodeCost> nodes;
  double flops = 0;
  double bytes = 0;
  double param_bytes = 0;        // every parameter (weights, optimizer state, buffers)
  double peak_activation_bytes = 0;  // most bytes of intermediate values alive at once, each freed
                                     // after its last use (the executor's policy)
};

// Binds every symbolic dimension of `t` to `batch`.
ir::TensorType bind_batch(const ir::TensorType& t, int64_t batch);
GraphCost estimate_cost(const ir::Graph& g, int64_t batch);

}  // namespace fc::passes
