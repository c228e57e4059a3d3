#include "runtime/executor.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <future>
#include <optional>
#include <string_view>
#include <unordered_set>

#include "support/error.h"
#include "ir/in_place.h"
#include "ir/op_registry.h"
#include "runtime/fault_injection.h"
#include "runtime/memory_plan.h"
#include "runtime/trace.h"

namespace fc::runtime {

namespace {
// FC_MEMORY_PLAN=0 turns the step memory plan off (every tensor allocated afresh), to measure
// what it gains or to rule it out when debugging.
bool memory_planning_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("FC_MEMORY_PLAN");
    return !(v && std::string_view(v) == "0");
  }();
  return enabled;
}

// FC_POISON_OUTPUTS=1 fills the outputs of kernels that claim to overwrite them
// (Kernel::overwrites_outputs) with NaN instead of leaving what the memory held: a kernel that
// leaves an element unwritten then changes the result, which tests compare against a normal run.
bool poison_outputs() {
  static const bool enabled = [] {
    const char* v = std::getenv("FC_POISON_OUTPUTS");
    return v && std::string_view(v) == "1";
  }();
  return enabled;
}

// Readies an output buffer for `kernel`: zero-filled unless it writes every element itself.
void prepare_output(const Kernel& kernel, Tensor& t) {
  if (!kernel.overwrites_outputs()) std::memset(t.raw(), 0, t.nbytes());
  else if (poison_outputs()) std::memset(t.raw(), 0xff, t.nbytes());  // all-ones bits: a NaN in f32 and f64
}
}  // namespace

Executor::Executor(const ir::Graph& graph, Backend& backend)
    : graph_(graph),
      kernels_(graph, backend, [this](const ir::Value* v) { return state_.count(v) > 0; }),
      last_use_(ir::last_uses(graph)) {
  in_place_ = ir::in_place_state_updates(graph);
  for (const auto& [param, next] : graph.state_updates) {
    FC_CHECK(graph.is_param(param), "state update of '", param->name, "': not a parameter");
    state_[param] = graph.param(param).clone();
  }
  // Accumulators are state the executor itself writes: summed into by micro-batches, zeroed after
  // the whole step. What reads a sum, directly or not, waits for the step's last micro-batch.
  std::unordered_set<const ir::Value*> accumulated;
  for (const auto& [acc, sum] : graph.accumulations) {
    FC_CHECK(graph.is_param(acc), "accumulation into '", acc->name, "': not a parameter");
    state_[acc] = graph.param(acc).clone();
    accumulated.insert(sum);
  }
  for (size_t i = 0; i < kernels_.size(); ++i) {
    const ir::Node& n = *kernels_[i].node;
    bool after = false;
    for (ir::Value* in : n.inputs) after = after || (in && accumulated.count(in));
    if (after) accumulated.insert(n.outputs.begin(), n.outputs.end());
    after_accumulation_.push_back(after);
  }
  buckets_ = place_gradient_buckets(graph);
  // Import and compilation freed most of what they allocated, but malloc's heap keeps freed memory
  // below its top: give it back before the first step records, or the process holds it and the
  // step's tensors at once (a 10.9 M-parameter GPT peaked at 1.55 GB, 880 MB in its steps).
  malloc_trim(0);
}

void Executor::plan_step_memory(const std::vector<std::vector<int64_t>>& feed_shapes,
                                const std::unordered_map<const ir::Value*, ir::TensorType>& produced) {
  const std::optional<StepPlan> planned = plan_step(kernels_, last_use_, produced, buckets_.placed);
  if (!planned) return;
  size_t resident = 0;
  for (const auto& [param, t] : state_) resident += t.nbytes();
  memory_ = allocate_step_memory(*planned, feed_shapes, resident);
}

std::optional<std::unordered_map<const ir::Value*, ir::TensorType>> Executor::build_kernels_for(
    const std::unordered_map<const ir::Value*, Tensor>& feeds) {
  std::unordered_map<const ir::Value*, ir::TensorType> types;
  for (const auto& [v, t] : feeds) types[v] = t.type();
  return kernels_.build_all(types, [this](const ir::Value* v) -> const Tensor& { return state(v); });
}

std::optional<MemoryPlan> Executor::plan_memory_for(const std::map<std::string, Tensor>& feeds) {
  std::unordered_map<const ir::Value*, Tensor> fed;
  for (ir::Value* in : graph_.inputs) {
    auto it = feeds.find(in->name);
    FC_CHECK(it != feeds.end(), "missing input '", in->name, "'");
    check_feed(in, it->second);
    fed[in] = it->second;
  }
  const auto produced = build_kernels_for(fed);
  if (!produced) return std::nullopt;
  const std::optional<StepPlan> planned = plan_step(kernels_, last_use_, *produced, buckets_.placed);
  if (!planned) return std::nullopt;
  return planned->plan;
}

const Tensor* Executor::in_place_buffer(const Kernel& kernel, const ir::Value* out, const ir::TensorType& type) const {
  auto it = in_place_.find(out);
  if (it == in_place_.end() || !kernel.overwrites_outputs()) return nullptr;
  const Tensor& own = state_.at(it->second);
  // Another holder of the old state (a caller's copy, a communication still reading it) keeps it:
  // the update then goes to a new buffer, as without in-place updates.
  if (!own.sole_owner() || own.dtype() != type.dtype || own.dims() != type.sizes()) return nullptr;
  return &own;
}

size_t Executor::planned_arena_bytes() const { return memory_ ? memory_->plan.arena_bytes : 0; }

std::optional<MemoryPlan> Executor::planned_memory() const {
  if (!memory_) return std::nullopt;
  return memory_->plan;
}

const Tensor& Executor::state(const ir::Value* param) const {
  if (auto it = state_.find(param); it != state_.end()) return it->second;
  return graph_.param(param);
}

void Executor::set_state(const ir::Value* param, Tensor t) {
  auto it = state_.find(param);
  FC_CHECK(it != state_.end(), "'", param->name, "' is not a training state parameter");
  FC_CHECK(t.dtype() == it->second.dtype() && t.dims() == it->second.dims(), "state '", param->name,
           "': expected ", ir::to_string(it->second.type()), ", got ", ir::to_string(t.type()));
  it->second = std::move(t);
}

Executor::~Executor() = default;

void Executor::check_feed(const ir::Value* input, const Tensor& t) const {
  const ir::TensorType& want = input->type;
  FC_CHECK(want.dtype == ir::DType::Undefined || t.dtype() == want.dtype, "input '", input->name, "': expected ",
           ir::dtype_name(want.dtype), ", got ", ir::dtype_name(t.dtype()));
  if (want.dims.empty() && want.dtype == ir::DType::Undefined) return;
  FC_CHECK(t.rank() == want.rank(), "input '", input->name, "': expected shape ", ir::to_string(want), ", got ",
           ir::to_string(t.type()));
  for (size_t d = 0; d < t.rank(); ++d)
    FC_CHECK(!want.dims[d].is_known() || want.dims[d].size == t.dim(d), "input '", input->name,
             "': expected shape ", ir::to_string(want), ", got ", ir::to_string(t.type()));
}

namespace {

// A node started asynchronously (Kernel::asynchronous): what its kernel reads and writes stays here
// until it completes; its outputs join the environment when a reader (or the end of the step)
// waits for it.
struct Pending {
  const ir::Node* node = nullptr;
  std::vector<Tensor> inputs;
  std::vector<const Tensor*> input_ptrs;
  std::vector<Tensor> outputs;
  std::future<void> done;
  bool finished = false;
};

// Waits for every started node when a step ends early (an exception): their kernels still point
// into the Pending records.
struct PendingGuard {
  std::vector<std::unique_ptr<Pending>>& all;
  ~PendingGuard() {
    for (auto& p : all)
      if (!p->finished && p->done.valid()) p->done.wait();
  }
};

}  // namespace

std::map<std::string, Tensor> Executor::run(const std::map<std::string, Tensor>& feeds, Part part) {
  const bool micro = part == Part::micro_batch;
  FC_CHECK(!micro || !graph_.accumulations.empty(), "graph '", graph_.name,
           "': a micro-batch run needs a graph with gradient accumulation");
  std::unordered_map<const ir::Value*, Tensor> env;
  std::vector<std::unique_ptr<Pending>> pending;
  std::unordered_map<const ir::Value*, Pending*> pending_of;
  PendingGuard guard{pending};
  auto complete = [&](Pending* p) {
    if (p->finished) return;
    p->finished = true;
    p->done.get();  // rethrows the kernel's error
    for (size_t k = 0; k < p->outputs.size(); ++k) {
      env[p->node->outputs[k]] = std::move(p->outputs[k]);
      pending_of.erase(p->node->outputs[k]);
    }
  };
  std::vector<std::vector<int64_t>> feed_shapes;
  for (ir::Value* in : graph_.inputs) {
    auto it = feeds.find(in->name);
    FC_CHECK(it != feeds.end(), "missing input '", in->name, "'");
    check_feed(in, it->second);
    env[in] = it->second;
    feed_shapes.push_back(it->second.dims());
  }
  // The memory plan of these input shapes: made now from the shapes alone when it can be, else
  // after this step, which records the sizes it meets.
  if ((!memory_ || memory_->feed_shapes != feed_shapes) && memory_planning_enabled()) {
    std::unordered_map<const ir::Value*, Tensor> fed;
    for (ir::Value* in : graph_.inputs) fed[in] = env.at(in);
    const auto produced_ahead = build_kernels_for(fed);
    if (produced_ahead) plan_step_memory(feed_shapes, *produced_ahead);
    if (!produced_ahead || !memory_) memory_.reset();
  }
  StepMemory* memory = memory_ && memory_->feed_shapes == feed_shapes ? memory_.get() : nullptr;
  bool plan_stale = false;
  std::unordered_map<const ir::Value*, ir::TensorType> produced;
  for (const auto& [name, t] : feeds) FC_CHECK(graph_.find_value(name), "unknown input '", name, "'");

  auto lookup = [&](const ir::Value* v) -> const Tensor* {
    if (!v) return nullptr;
    if (auto st = state_.find(v); st != state_.end()) return &st->second;
    if (graph_.is_param(v)) return &graph_.param(v);
    auto it = env.find(v);
    FC_ASSERT(it != env.end());
    return &it->second;
  };

  for (size_t i = 0; i < kernels_.size(); ++i) {
    if (micro && after_accumulation_[i]) continue;
    NodeKernels::Entry& st = kernels_[i];
    const ir::Node& n = *st.node;
    for (ir::Value* v : n.inputs)
      if (auto p = v ? pending_of.find(v) : pending_of.end(); p != pending_of.end()) complete(p->second);
    std::vector<const Tensor*> ins;
    for (ir::Value* v : n.inputs) ins.push_back(lookup(v));
    kernels_.for_inputs(i, ins);
    std::vector<Tensor> outs(n.outputs.size());
    if (!st.kernel->allocates_outputs())
      for (size_t k = 0; k < outs.size(); ++k) {
        FC_CHECK(st.out_types[k].is_concrete(), n.describe(), ": could not determine output shape");
        if (auto placed = buckets_.placed.find(n.outputs[k]); placed != buckets_.placed.end()) {
          FC_CHECK(st.out_types[k].sizes() == placed->second.dims(), n.describe(), ": gradient shape ",
                   ir::to_string(st.out_types[k]), " differs from its planned ", ir::to_string(placed->second.type()));
          outs[k] = placed->second;
          prepare_output(*st.kernel, outs[k]);
        } else if (const Tensor* own = in_place_buffer(*st.kernel, n.outputs[k], st.out_types[k])) {
          outs[k] = *own;  // the new state is written over the old
        } else {
          auto slot = memory ? memory->slot.find(n.outputs[k]) : decltype(memory->slot)::iterator{};
          const bool planned = memory && slot != memory->slot.end();
          if (planned && slot->second.dtype() == st.out_types[k].dtype &&
              slot->second.dims() == st.out_types[k].sizes()) {
            outs[k] = slot->second;
            prepare_output(*st.kernel, outs[k]);
          } else {
            outs[k] = Tensor(st.out_types[k].dtype, st.out_types[k].sizes());
            // A planned size that changed (it depends on values, not shapes): plan after this step.
            plan_stale = plan_stale || planned;
            if (!memory) produced[n.outputs[k]] = st.out_types[k];
          }
        }
      }
    if (st.kernel->asynchronous()) {
      auto p = std::make_unique<Pending>();
      p->node = &n;
      for (const Tensor* t : ins) p->inputs.push_back(t ? *t : Tensor());
      for (size_t k = 0; k < ins.size(); ++k) p->input_ptrs.push_back(ins[k] ? &p->inputs[k] : nullptr);
      p->outputs = std::move(outs);
      p->done = st.kernel->start(p->input_ptrs, p->outputs);
      for (ir::Value* o : n.outputs) pending_of[o] = p.get();
      pending.push_back(std::move(p));
    } else {
      TraceScope trace(st.category, n.name);
      st.kernel->run(ins, outs);
      for (size_t k = 0; k < outs.size(); ++k) {
        // A kernel that assigns its own outputs (a view of its input) is copied into place.
        if (auto placed = buckets_.placed.find(n.outputs[k]); placed != buckets_.placed.end() && !outs[k].same_storage(placed->second)) {
          FC_CHECK(outs[k].dims() == placed->second.dims(), n.describe(), ": gradient shape ",
                   ir::to_string(outs[k].type()), " differs from its planned ", ir::to_string(placed->second.type()));
          std::memcpy(placed->second.raw(), outs[k].raw(), outs[k].nbytes());
          outs[k] = placed->second;
        }
        env[n.outputs[k]] = std::move(outs[k]);
      }
    }
    for (ir::Value* v : n.inputs)
      if (v && !graph_.is_param(v) && last_use_.at(v) == static_cast<int>(i)) env.erase(v);
    // Test-only fault injection (issue 22): a fault "during forward" lands after the first node.
    if (i == 0) fault_point(FaultPhase::forward);
  }
  for (auto& p : pending) complete(p.get());
  for (const auto& [param, next] : graph_.state_updates)
    if (!micro || env.count(next)) state_[param] = env.at(next);
  for (const auto& [acc, sum] : graph_.accumulations) {
    Tensor& a = state_.at(acc);
    if (micro) std::memcpy(a.raw(), env.at(sum).raw(), a.nbytes());
    else std::memset(a.raw(), 0, a.nbytes());
  }
  std::map<std::string, Tensor> result;
  for (ir::Value* o : graph_.outputs)
    if (!micro || !o->producer || env.count(o)) result[o->name] = *lookup(o);
  if (plan_stale) memory_.reset();  // the next step records and plans
  else if (!memory && memory_planning_enabled()) {
    env.clear();  // the recording step's own tensors, before the arena takes their place
    // They went back to malloc's heap, which keeps them: give them back to the system before the
    // arena is allocated, or the process holds both (+50 MiB of peak RSS measured).
    malloc_trim(0);
    plan_step_memory(feed_shapes, produced);
  }
  return result;
}

}  // namespace fc::runtime
