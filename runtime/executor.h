// Runs an IR graph on a backend: the run loop, training state and feeds. Its parts, one job each:
//   runtime/node_kernels.h      the kernel cache (one kernel per node and set of input shapes)
//   runtime/step_memory.h       liveness and the step's memory plan in one arena (what `fcc inspect` reports)
//   runtime/gradient_buckets.h  data-parallel gradients placed in the bucket arena the allreduce sums in
//
// Memory: a step's intermediate tensors live in one arena, at offsets planned from their sizes and
// lifetimes, so tensors whose lifetimes do not overlap share memory and a step allocates nothing.
// The plan is made before a step with new input shapes runs, from shape inference alone (which
// builds every kernel first); when a size depends on values the step computes, that step allocates
// each tensor afresh (freed after its last use) and the plan is made from the sizes it met.
//
// Training state (Graph::state_updates: weights, optimizer state, BatchNorm running statistics)
// lives in the executor: it starts as a copy of the graph's parameter values, and after each run
// every state parameter takes the value computed for it (written in place over the old value where
// ir/in_place.h allows). Kernels never cache the values of state parameters.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/gradient_buckets.h"
#include "runtime/memory_plan.h"
#include "runtime/node_kernels.h"
#include "runtime/step_memory.h"

namespace fc::runtime {

class Executor {
 public:
  Executor(const ir::Graph& graph, Backend& backend);
  ~Executor();

  // What a run computes of a graph with gradient accumulation (Graph::accumulations).
  enum class Part {
    whole_step,   // everything; every state update applies and the accumulators restart at zero
    micro_batch,  // a micro-batch before the step's last: the nodes that depend on no accumulated
                  // sum (forward, loss, backward, BatchNorm statistics); the state they compute
                  // applies, and each accumulator keeps its sum. No collective but synchronised BatchNorm runs.
  };

  // Feeds every graph input by name; returns every graph output by name (in a micro-batch run,
  // those it computes). Throws fc::Error naming the input when a feed is missing or has the wrong
  // element type or shape.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& feeds, Part part = Part::whole_step);

  // Current value of a state parameter (or of a constant parameter).
  const Tensor& state(const ir::Value* param) const;
  void set_state(const ir::Value* param, Tensor t);
  const ir::Graph& graph() const { return graph_; }
  // Bytes of the step memory plan's arena for the current input shapes (0: none yet).
  size_t planned_arena_bytes() const;
  // The step memory plan for the current input shapes (none yet: nullopt).
  std::optional<MemoryPlan> planned_memory() const;
  // The memory plan a step on these inputs gets, made exactly as run() makes it (every kernel
  // built, one liveness analysis), without running the step or allocating its arena, and without
  // the check against this machine's memory; nullopt when a size depends on values the step
  // computes. `fcc inspect` reports it.
  std::optional<MemoryPlan> plan_memory_for(const std::map<std::string, Tensor>& feeds);

 private:
  void check_feed(const ir::Value* input, const Tensor& t) const;
  // Builds every kernel for these inputs; the type of every value the step produces, or nullopt
  // when a size depends on values.
  std::optional<std::unordered_map<const ir::Value*, ir::TensorType>> build_kernels_for(
      const std::unordered_map<const ir::Value*, Tensor>& feeds);
  // Plans and allocates the step's arena from the types the step produces (no plan: memory_ unset).
  void plan_step_memory(const std::vector<std::vector<int64_t>>& feed_shapes,
                        const std::unordered_map<const ir::Value*, ir::TensorType>& produced);
  // The state tensor that new state `out` may be written into (ir/in_place.h), or null.
  const Tensor* in_place_buffer(const Kernel& kernel, const ir::Value* out, const ir::TensorType& type) const;

  const ir::Graph& graph_;
  std::unordered_map<const ir::Value*, Tensor> state_;  // mutable parameters, by parameter value
  NodeKernels kernels_;
  std::unordered_map<const ir::Value*, int> last_use_;  // ir::last_uses
  PlacedGradients buckets_;                             // data-parallel gradients in the bucket arena
  std::unique_ptr<StepMemory> memory_;                  // the plan for the current input shapes
  std::unordered_map<const ir::Value*, const ir::Value*> in_place_;  // new state -> the parameter it overwrites
  std::vector<bool> after_accumulation_;  // per node: depends on an accumulated sum (skipped by micro-batches)
};

}  // namespace fc::runtime
