// Runs an IR graph on a backend. Kernels are built once per node and per set of concrete input
// shapes (a new batch size builds new kernels; the same batch reuses them).
//
// Memory: a step's intermediate tensors live in one arena, at offsets planned from their sizes and
// lifetimes (runtime/memory_plan.h), so tensors whose lifetimes do not overlap share memory and a
// step allocates nothing. The plan is made before a step with new input shapes runs, from shape
// inference alone (which builds every kernel first); when a size depends on values the step
// computes, that step allocates each tensor afresh (freed after its last use) and the plan is made
// from the sizes it met.
// Not planned: tensors that outlive the step (graph outputs, new training state), outputs of
// kernels that assign their own (views of their inputs: those inputs then live as long as the view)
// and of asynchronous kernels (whose inputs live to the end of the step).
//
// In data-parallel training (several ranks), the gradients of each fc.AllReduce bucket are
// computed straight into one contiguous region of the job's bucket arena (DataParallel::
// bucket_arena), at the same offset on every rank, so the allreduce sums them where they lie:
// no copy into or out of a fusion buffer.
//
// Training state (Graph::state_updates: weights, optimizer state, BatchNorm running statistics)
// lives in the executor: it starts as a copy of the graph's parameter values, and after each run
// every state parameter takes the value computed for it. Kernels never cache the values of state
// parameters (KernelSpec::values is null for them); constant parameters may be cached.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/memory_plan.h"

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
  struct NodeState;
  void check_feed(const ir::Value* input, const Tensor& t) const;
  void place_gradient_buckets();
  struct StepMemory;
  void build_kernel(NodeState& st, const std::vector<ir::TensorType>& in_types,
                    const std::vector<const Tensor*>& values, const std::vector<std::vector<int64_t>>& shapes);
  // Builds every kernel and the memory plan for these input shapes before the step runs; false
  // when a size depends on values the step computes (the step then records sizes as it goes).
  bool plan_ahead(const std::vector<std::vector<int64_t>>& feed_shapes,
                  const std::unordered_map<const ir::Value*, Tensor>& feeds);
  // Builds every kernel for these inputs; the type of every value the step produces, or nullopt
  // when a size depends on values.
  std::optional<std::unordered_map<const ir::Value*, ir::TensorType>> build_kernels_for(
      const std::unordered_map<const ir::Value*, Tensor>& feeds);
  // The step's planned intermediates (in the arena), their types and offsets; nullopt when a node
  // has no kernel yet.
  struct StepPlan {
    std::vector<const ir::Value*> values;
    std::vector<ir::TensorType> types;
    MemoryPlan plan;
  };
  std::optional<StepPlan> step_plan(const std::unordered_map<const ir::Value*, ir::TensorType>& produced) const;
  void plan_step_memory(const std::vector<std::vector<int64_t>>& feed_shapes,
                        const std::unordered_map<const ir::Value*, ir::TensorType>& produced);
  // The state tensor that new state `out` may be written into (ir/in_place.h), or null.
  const Tensor* in_place_buffer(const Kernel& kernel, const ir::Value* out, const ir::TensorType& type) const;

  const ir::Graph& graph_;
  Backend& backend_;
  std::vector<std::unique_ptr<NodeState>> nodes_;
  std::unordered_map<const ir::Value*, int> last_use_;  // index of the last node reading a value
  std::unordered_map<const ir::Value*, Tensor> state_;  // mutable parameters, by parameter value
  Tensor bucket_arena_;                                  // data-parallel gradient buckets
  std::unordered_map<const ir::Value*, Tensor> placed_;  // gradient -> its place in the arena
  std::unique_ptr<StepMemory> memory_;                   // the plan for the current input shapes
  std::unordered_map<const ir::Value*, const ir::Value*> in_place_;  // new state -> the parameter it overwrites
  std::vector<bool> after_accumulation_;  // per node: depends on an accumulated sum (skipped by micro-batches)
};

}  // namespace fc::runtime
