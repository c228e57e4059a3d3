// The executor's kernel cache: the kernel of each node of a graph, built from the node's concrete
// input types once per set of input shapes (a new batch size builds new kernels; the same batch
// reuses them), and each node's trace category from its step phase (ir/step_analysis.h).
// Kernels may cache the values of constant parameters; never those of training state (`is_state`),
// whose values change between steps (KernelSpec::values is null for them).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "runtime/backend.h"

namespace fc::runtime {

class NodeKernels {
 public:
  struct Entry {
    const ir::Node* node = nullptr;
    const char* category = "";                 // for traces: forward, backward, optimizer, allreduce
    std::vector<std::vector<int64_t>> shapes;  // input shapes the kernel was built for
    std::vector<ir::TensorType> out_types;
    std::unique_ptr<Kernel> kernel;
  };

  // Every node must have a kernel on `backend` (a one-line error naming the node otherwise).
  NodeKernels(const ir::Graph& graph, Backend& backend, std::function<bool(const ir::Value*)> is_state);

  size_t size() const { return nodes_.size(); }
  Entry& operator[](size_t i) { return nodes_[i]; }
  const Entry& operator[](size_t i) const { return nodes_[i]; }

  // Node i's kernel for these input tensors (null: an omitted optional input), built unless the one
  // it has was built for the same shapes. The tensors' values reach the node's shape function.
  Kernel& for_inputs(size_t i, const std::vector<const Tensor*>& inputs);

  // Builds every node's kernel for a step whose graph inputs have the types `inputs`, parameters
  // read through `param`; returns the type of every value the step produces, or nullopt when a
  // size depends on values the step computes.
  std::optional<std::unordered_map<const ir::Value*, ir::TensorType>> build_all(
      const std::unordered_map<const ir::Value*, ir::TensorType>& inputs,
      const std::function<const Tensor&(const ir::Value*)>& param);

 private:
  void build(Entry& e, const std::vector<ir::TensorType>& in_types, const std::vector<const Tensor*>& values,
             const std::vector<std::vector<int64_t>>& shapes);

  const ir::Graph& graph_;
  Backend& backend_;
  std::function<bool(const ir::Value*)> is_state_;
  std::vector<Entry> nodes_;
};

}  // namespace fc::runtime
