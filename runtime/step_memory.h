// Where a step's intermediate tensors live (the executor's memory placement): how long each value
// must live over the node order, the step's memory plan (runtime/memory_plan.h) over those
// lifetimes, and the one arena that holds it. `fcc inspect` reports the same plan
// (Executor::plan_memory_for).
//
// Not planned: tensors that outlive the step (graph outputs, new training state, accumulated sums),
// gradients placed in the data-parallel bucket arena (runtime/gradient_buckets.h), outputs of kernels
// that assign their own (views of their inputs: those inputs then live as long as the view) and of
// asynchronous kernels (whose inputs live to the end of the step).
#pragma once

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "ir/liveness.h"
#include "runtime/memory_plan.h"
#include "runtime/node_kernels.h"
#include "runtime/backend.h"

namespace fc::runtime {

// The step's planned intermediates, their types and places.
struct StepPlan {
  std::vector<const ir::Value*> values;
  std::vector<ir::TensorType> types;
  MemoryPlan plan;
};

// Plans the values of `produced` (their types in this step) that live in the arena, from the step's
// liveness (`last_use`: ir::last_uses); nullopt when a node has no kernel yet (a step that an
// exception ended).
std::optional<StepPlan> plan_step(const NodeKernels& kernels, const std::unordered_map<const ir::Value*, int>& last_use,
                                  const std::unordered_map<const ir::Value*, ir::TensorType>& produced,
                                  const std::unordered_map<const ir::Value*, Tensor>& placed_elsewhere);

// The arena of one memory plan and each planned value's view into it.
struct StepMemory {
  std::vector<std::vector<int64_t>> feed_shapes;  // the graph input shapes it was planned for
  std::unordered_map<const ir::Value*, Tensor> slot;
  MemoryPlan plan;
};

// Allocates the plan's arena, after checking that it fits in this machine's memory next to
// `resident_bytes` (training state).
std::unique_ptr<StepMemory> allocate_step_memory(const StepPlan& planned,
                                                 const std::vector<std::vector<int64_t>>& feed_shapes,
                                                 size_t resident_bytes);

}  // namespace fc::runtime
