#include "passes/allreduce_buckets.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "support/error.h"
#include "ir/op_registry.h"
#include "ir/step_analysis.h"
#include "passes/graph_cost.h"
#include "passes/node_cost.h"

namespace fc::passes {

std::vector<std::vector<size_t>> plan_buckets(const std::vector<size_t>& bytes, size_t first_bucket_bytes,
                                              size_t bucket_bytes) {
  std::vector<std::vector<size_t>> buckets;
  size_t filled = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const size_t limit = buckets.size() == 1 ? first_bucket_bytes : bucket_bytes;
    // A gradient opens a new bucket when it would overflow a non-empty one (so one larger than
    // the limit gets a bucket of its own).
    if (buckets.empty() || (filled > 0 && filled + bytes[i] > limit)) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(i);
    filled += bytes[i];
  }
  return buckets;
}

namespace {

// The cheapest algorithm for a bucket ("auto") or the fixed one, with its predicted seconds.
std::pair<std::string, double> bucket_cost(const CommModel& model, const std::string& algorithm, double bytes) {
  if (algorithm != "auto") return {algorithm, model.seconds(algorithm, bytes)};
  FC_CHECK(!model.algorithms.empty(), "bucketing: no candidate allreduce algorithms");
  std::pair<std::string, double> best{model.algorithms[0], model.seconds(model.algorithms[0], bytes)};
  for (size_t a = 1; a < model.algorithms.size(); ++a) {
    const double t = model.seconds(model.algorithms[a], bytes);
    if (t < best.second) best = {model.algorithms[a], t};
  }
  return best;
}

}  // namespace

BucketPlan schedule_buckets(const std::vector<std::vector<size_t>>& groups, const std::vector<GradientSlot>& grads,
                            double backward_s, const CommModel& model, const std::string& algorithm) {
  BucketPlan plan;
  plan.backward_s = backward_s;
  double previous_end = 0;
  for (const std::vector<size_t>& g : groups) {
    PlannedBucket b;
    b.grads = g;
    for (size_t i : g) {
      b.bytes += grads[i].bytes;
      b.ready_s = std::max(b.ready_s, grads[i].ready_s);
    }
    if (model.seconds) std::tie(b.algorithm, b.comm_s) = bucket_cost(model, algorithm, static_cast<double>(b.bytes));
    else b.algorithm = algorithm;
    b.start_s = std::max(b.ready_s, previous_end);
    const double end = b.start_s + b.comm_s;
    b.exposed_s = std::max(end, backward_s) - std::max(previous_end, backward_s);
    previous_end = end;
    plan.comm_s += b.comm_s;
    plan.exposed_s += b.exposed_s;
    plan.buckets.push_back(std::move(b));
  }
  return plan;
}

BucketPlan plan_buckets_by_cost(const std::vector<GradientSlot>& grads, double backward_s, const CommModel& model,
                                const std::string& algorithm) {
  const size_t n = grads.size();
  FC_CHECK(model.seconds, "bucketing: no communication model");
  std::vector<double> prefix(n + 1, 0);
  for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + static_cast<double>(grads[i].bytes);
  // best_end[j]: the earliest time the first j gradients can all be reduced; first[j]: where the
  // last bucket of that best plan starts. Ties keep the larger bucket (fewer messages).
  std::vector<double> best_end(n + 1, 0);
  std::vector<size_t> first(n + 1, 0);
  for (size_t j = 1; j <= n; ++j) {
    best_end[j] = std::numeric_limits<double>::infinity();
    for (size_t i = 1; i <= j; ++i) {
      const double start = std::max(grads[j - 1].ready_s, best_end[i - 1]);
      const double end = start + bucket_cost(model, algorithm, prefix[j] - prefix[i - 1]).second;
      if (end < best_end[j] * (1 - 1e-12)) {
        best_end[j] = end;
        first[j] = i - 1;
      }
    }
  }
  std::vector<std::vector<size_t>> groups;
  for (size_t j = n; j > 0; j = first[j]) {
    std::vector<size_t> g;
    for (size_t i = first[j]; i < j; ++i) g.push_back(i);
    groups.insert(groups.begin(), std::move(g));
  }
  return schedule_buckets(groups, grads, backward_s, model, algorithm);
}

BucketPlan insert_allreduce_buckets(ir::Graph& g, const BucketingOptions& options) {
  // Optimizer updates (one per parameter: no horizontal fusion yet) and the gradient each reads.
  const ir::StepAnalysis step = ir::analyze_step(g, options.loss);
  std::vector<ir::Node*> updates;
  for (const ir::UpdateSlot& u : step.updates) updates.push_back(u.update);
  if (updates.empty()) return {};
  const std::unordered_map<const ir::Node*, size_t>& position = step.position;
  // Backward completion order: by the position of each gradient's producer.
  auto produced_at = [&](ir::Node* u) {
    const ir::Value* grad = ir::update_gradient(*u);
    return grad->producer ? position.at(grad->producer) : 0;
  };
  std::stable_sort(updates.begin(), updates.end(),
                   [&](ir::Node* a, ir::Node* b) { return produced_at(a) < produced_at(b); });

  // Compute time of every node at the per-rank batch (the node cost model, passes/node_cost.h, at
  // one rate for every class), accumulated from the start of backward (the node after the loss)
  // to each gradient's producer.
  const GraphCost cost = estimate_cost(g, std::max<int64_t>(options.per_rank_batch, 1));
  const DeviceProfile device = uniform_device(options.device_flops, options.device_bytes_per_s);
  std::vector<double> done_at(g.nodes().size(), 0);  // backward seconds when node i finishes
  double clock = 0;
  for (const NodeCost& c : cost.nodes) {
    const size_t i = position.at(c.node);
    if (i >= step.backward_begin)
      clock += node_seconds(*c.node, c.cost, device);
    done_at[i] = clock;
  }
  std::vector<GradientSlot> slots;
  double backward_s = 0;
  for (ir::Node* u : updates) {
    const ir::TensorType& t = ir::update_gradient(*u)->type;
    FC_CHECK(t.is_concrete(), u->describe(), ": gradient of unknown size ", ir::to_string(t));
    const ir::Node* producer = ir::update_gradient(*u)->producer;
    slots.push_back({static_cast<size_t>(t.numel()) * ir::dtype_size(t.dtype), producer ? done_at[position.at(producer)] : 0});
    backward_s = std::max(backward_s, slots.back().ready_s);
  }

  BucketPlan plan;
  const auto mib = [](double mb) { return static_cast<size_t>(mb * 1024 * 1024); };
  if (options.bucket_mb > 0 || !options.comm.seconds) {
    std::vector<size_t> bytes;
    for (const GradientSlot& s : slots) bytes.push_back(s.bytes);
    const double limit = options.bucket_mb > 0 ? options.bucket_mb : 4.0;
    plan = schedule_buckets(plan_buckets(bytes, mib(std::min(options.first_bucket_mb, limit)), mib(limit)), slots,
                            backward_s, options.comm, options.algorithm);
  } else {
    plan = plan_buckets_by_cost(slots, backward_s, options.comm, options.algorithm);
  }

  std::vector<ir::Node*> allreduces;
  for (size_t b = 0; b < plan.buckets.size(); ++b) {
    PlannedBucket& bucket = plan.buckets[b];
    std::vector<ir::Value*> ins, outs;
    for (size_t i : bucket.grads) {
      ir::Value* grad = ir::update_gradient(*updates[i]);
      bucket.tensors.push_back(updates[i]->inputs[0]->name);
      ins.push_back(grad);
      outs.push_back(g.add_value(g.unique_name(grad->name + "/allreduced"), grad->type));
    }
    ir::Node* ar = g.add_node("AllReduce", ins, outs,
                              {{"algorithm", bucket.algorithm},
                               {"bucket", static_cast<int64_t>(b)},
                               {"predicted_comm_us", static_cast<float>(bucket.comm_s * 1e6)},
                               {"predicted_exposed_us", static_cast<float>(bucket.exposed_s * 1e6)}},
                              g.unique_node_name("allreduce_bucket_" + std::to_string(b)));
    ar->domain = "fc";
    allreduces.push_back(ar);
    for (size_t k = 0; k < bucket.grads.size(); ++k) ir::update_gradient(*updates[bucket.grads[k]]) = outs[k];
  }
  g.toposort();
  // Each bucket starts as soon as its last gradient is computed, while the rest of backward runs.
  for (ir::Node* ar : allreduces) g.hoist(ar);
  return plan;
}

}  // namespace fc::passes
