// Runs an IR graph on a backend. Kernels are built once per node and per set of concrete input
// shapes (a new batch size builds new kernels; the same batch reuses them), and every
// intermediate tensor is released after its last use.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "runtime/backend.h"

namespace fc::runtime {

class Executor {
 public:
  Executor(const ir::Graph& graph, Backend& backend);
  ~Executor();

  // Feeds every graph input by name; returns every graph output by name. Throws fc::Error naming
  // the input when a feed is missing or has the wrong element type or shape.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& feeds);

 private:
  struct NodeState;
  void check_feed(const ir::Value* input, const Tensor& t) const;

  const ir::Graph& graph_;
  Backend& backend_;
  std::vector<std::unique_ptr<NodeState>> nodes_;
  std::unordered_map<const ir::Value*, int> last_use_;  // index of the last node reading a value
};

}  // namespace fc::runtime
