#include "runtime/step_memory.h"

#include <algorithm>
#include <cstddef>
#include <string>

#include "ir/checked_size.h"
#include "runtime/memory_limit.h"

namespace fc::runtime {

std::optional<StepPlan> plan_step(const NodeKernels& kernels, const std::unordered_map<const ir::Value*, int>& last_use,
                                  const std::unordered_map<const ir::Value*, ir::TensorType>& produced,
                                  const std::unordered_map<const ir::Value*, Tensor>& placed_elsewhere) {
  const int n = static_cast<int>(kernels.size());
  // How long each value's memory must live: to its last reader, extended backwards through kernels
  // that may return views of their inputs, and to the end of the step for what an asynchronous
  // kernel reads (it may still be reading when its last reader in node order has run).
  std::unordered_map<const ir::Value*, int> end;
  for (int i = 0; i < n; ++i)
    for (ir::Value* o : kernels[static_cast<size_t>(i)].node->outputs) {
      auto lu = last_use.find(o);
      end[o] = lu == last_use.end() ? i : lu->second;
    }
  for (int i = n - 1; i >= 0; --i) {
    const NodeKernels::Entry& e = kernels[static_cast<size_t>(i)];
    if (!e.kernel) return std::nullopt;  // a node that never ran (an exception ended the step): no plan
    int reach = -1;
    if (e.kernel->asynchronous()) reach = n;
    if (e.kernel->allocates_outputs())
      for (ir::Value* o : e.node->outputs) reach = std::max(reach, end[o]);
    for (ir::Value* in : e.node->inputs)
      if (in && end.count(in)) end[in] = std::max(end[in], reach);
  }
  StepPlan r;
  std::vector<BufferLifetime> lifetimes;
  for (int i = 0; i < n; ++i) {
    const NodeKernels::Entry& e = kernels[static_cast<size_t>(i)];
    if (e.kernel->allocates_outputs() || e.kernel->asynchronous()) continue;
    for (ir::Value* o : e.node->outputs) {
      auto type = produced.find(o);
      if (type == produced.end() || end[o] == ir::kLivesPastStep || placed_elsewhere.count(o)) continue;
      r.values.push_back(o);
      r.types.push_back(type->second);
      lifetimes.push_back({ir::dtype_size(type->second.dtype) * static_cast<size_t>(type->second.numel()), i, end[o]});
    }
  }
  r.plan = plan_memory(lifetimes, 64);
  return r;
}

std::unique_ptr<StepMemory> allocate_step_memory(const StepPlan& planned,
                                                 const std::vector<std::vector<int64_t>>& feed_shapes,
                                                 size_t resident_bytes) {
  const MemoryPlan& plan = planned.plan;
  std::string inputs;
  for (const auto& s : feed_shapes) inputs += (inputs.empty() ? "" : ", ") + ir::dims_text(s);
  check_fits_in_memory(plan.arena_bytes, resident_bytes, "a step on inputs " + inputs);
  auto memory = std::make_unique<StepMemory>();
  memory->feed_shapes = feed_shapes;
  memory->plan = plan;
  auto arena = std::make_shared<Tensor>(ir::DType::U8, std::vector<int64_t>{static_cast<int64_t>(plan.arena_bytes)});
  auto* base = static_cast<std::byte*>(arena->raw());
  for (size_t k = 0; k < planned.values.size(); ++k) {
    const ir::TensorType& t = planned.types[k];
    memory->slot[planned.values[k]] = Tensor::external(base + plan.offsets[k], t.dtype, t.sizes(), arena);
  }
  return memory;
}

}  // namespace fc::runtime
