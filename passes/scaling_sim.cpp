// Data-parallel scaling simulator (see scaling_sim.h for the model).
#include "passes/scaling_sim.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "support/error.h"
#include "ir/op_registry.h"
#include "ir/step_analysis.h"
#include "passes/graph_cost.h"

namespace fc::passes {

namespace {

// Peak FP32 FLOP/s times an efficiency per class. The efficiencies are assumptions (stated in
// docs/scaling.md); the peaks and bandwidths are the vendors' data-sheet figures.
DeviceProfile gpu(std::string name, double peak_tflops, double conv_eff, double gemm_eff, double other_eff,
                  double mem_gbs, double mem_eff, std::string source) {
  DeviceProfile d;
  d.name = std::move(name);
  d.conv_flops = peak_tflops * 1e12 * conv_eff;
  d.gemm_flops = peak_tflops * 1e12 * gemm_eff;
  d.other_flops = peak_tflops * 1e12 * other_eff;
  d.bytes_per_s = mem_gbs * 1e9 * mem_eff;
  d.source = std::move(source);
  return d;
}

const std::vector<DeviceProfile>& profiles() {
  static const std::vector<DeviceProfile> list = [] {
    std::vector<DeviceProfile> v;
    // One core of this machine (AMD EPYC, oneDNN fp32): the ~30 GFLOP/s per core the bucketing
    // model assumes (runtime/recipe.h device_gflops); elementwise ops are memory bound at ~10 GB/s
    // per core (the shared_memory interconnect preset's figure for one core's memcpy).
    DeviceProfile cpu;
    cpu.name = "cpu";
    cpu.conv_flops = 30e9;
    cpu.gemm_flops = 30e9;
    cpu.other_flops = 30e9;
    cpu.bytes_per_s = 10e9;
    cpu.source = "one core of this machine: 30 GFLOP/s (recipe device_gflops default), 10 GB/s memory";
    v.push_back(cpu);
    // Tesla K20X (FireCaffe's GPU on ORNL Titan): 3.95 TFLOP/s fp32 peak, 250 GB/s. Caffe-era
    // kernels reached ~25-30% of peak on convolutions: Caffe's own figure of 4 ms/image to train
    // CaffeNet on a K40 (~4.3 GFLOP per image -> ~1.1 TFLOP/s of 4.29 peak). Assumed: conv 30%,
    // gemm 45%, the rest 5% of peak and 60% of the memory bandwidth.
    v.push_back(gpu("k20x", 3.95, 0.30, 0.45, 0.05, 250, 0.6,
                    "Tesla K20X data sheet (3.95 TFLOP/s fp32, 250 GB/s); efficiencies conv 30%, gemm 45% "
                    "(Caffe: 4 ms/image CaffeNet training on K40), memory 60%"));
    // Later GPUs with cuDNN-class kernels: conv 50%, gemm 65% of the fp32 (non-tensor-core) peak.
    v.push_back(gpu("p100", 10.6, 0.50, 0.65, 0.05, 732, 0.7,
                    "Tesla P100 SXM2 data sheet (10.6 TFLOP/s fp32, 732 GB/s); assumed conv 50%, gemm 65%, memory 70%"));
    v.push_back(gpu("v100", 15.7, 0.50, 0.65, 0.05, 900, 0.7,
                    "Tesla V100 SXM2 data sheet (15.7 TFLOP/s fp32, 900 GB/s); assumed conv 50%, gemm 65%, memory 70%"));
    v.push_back(gpu("a100", 19.5, 0.50, 0.65, 0.05, 1555, 0.7,
                    "A100 SXM4 40GB data sheet (19.5 TFLOP/s fp32 without TF32, 1555 GB/s); assumed conv 50%, "
                    "gemm 65%, memory 70%"));
    v.push_back(gpu("h100", 67.0, 0.50, 0.65, 0.05, 3350, 0.7,
                    "H100 SXM5 data sheet (67 TFLOP/s fp32 without TF32, 3.35 TB/s); assumed conv 50%, gemm 65%, "
                    "memory 70%"));
    return v;
  }();
  return list;
}

}  // namespace

DeviceProfile device_profile(const std::string& name) {
  std::string known;
  for (const DeviceProfile& d : profiles()) {
    if (d.name == name) return d;
    known += (known.empty() ? "\"" : ", \"") + d.name + "\"";
  }
  fail("unknown device profile \"", name, "\" (known: ", known, ")");
}

const std::vector<std::string>& device_profile_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const DeviceProfile& d : profiles()) v.push_back(d.name);
    return v;
  }();
  return names;
}

DeviceProfile with_conv_gflops(DeviceProfile profile, double conv_gflops) {
  FC_CHECK(std::isfinite(conv_gflops) && conv_gflops > 0, "device GFLOP/s must be > 0, got ", conv_gflops);
  const double scale = conv_gflops * 1e9 / profile.conv_flops;
  profile.conv_flops *= scale;
  profile.gemm_flops *= scale;
  profile.other_flops *= scale;
  profile.source += "; FLOP rates scaled to " + std::to_string(conv_gflops) + " GFLOP/s on convolutions";
  return profile;
}


double StepCosts::gradient_bytes() const {
  double b = 0;
  for (const GradientCost& g : gradients) b += g.bytes;
  return b;
}

StepCosts step_costs(const ir::Graph& train, const ir::Value* loss, int64_t batch) {
  FC_CHECK(batch >= 1, "simulate: per-worker batch must be >= 1, got ", batch);
  const GraphCost cost = estimate_cost(train, batch);
  const ir::StepAnalysis step = ir::analyze_step(train, loss);

  StepCosts s;
  s.batch = batch;
  std::unordered_map<const ir::Node*, size_t> index;  // graph node -> StepCosts::nodes index
  std::vector<const ir::Node*> allreduces;
  for (const NodeCost& c : cost.nodes) {
    const ir::Node* n = c.node;
    const StepPhase phase = step.phase_of(n);
    if (phase == StepPhase::Communication) {
      allreduces.push_back(n);
      continue;
    }
    NodeStepCost k;
    k.cls = op_class(n->domain, n->op);
    k.phase = phase;
    k.flops = c.cost.flops;
    k.bytes = c.cost.bytes;
    index[n] = s.nodes.size();
    s.nodes.push_back(k);
  }
  // Gradients: what the AllReduce buckets carry, else what the updates read.
  std::vector<const ir::Value*> grads;
  for (const ir::Node* ar : allreduces) grads.insert(grads.end(), ar->inputs.begin(), ar->inputs.end());
  if (grads.empty())
    for (const ir::UpdateSlot& u : step.updates) grads.push_back(u.gradient);
  for (const ir::Value* gv : grads) {
    const ir::TensorType t = bind_batch(gv->type, batch);
    FC_CHECK(t.is_concrete(), "simulate: gradient ", gv->name, " has unknown size ", ir::to_string(t));
    GradientCost g;
    g.bytes = static_cast<double>(t.numel()) * ir::dtype_size(t.dtype);
    g.producer = gv->producer && index.count(gv->producer) ? index.at(gv->producer) : 0;
    s.gradients.push_back(g);
  }
  std::stable_sort(s.gradients.begin(), s.gradients.end(),
                   [](const GradientCost& a, const GradientCost& b) { return a.producer < b.producer; });
  return s;
}

double node_seconds(const NodeStepCost& n, const DeviceProfile& device) {
  return node_seconds(n.cls, n.flops, n.bytes, device);
}

ComputeTimes compute_times(const StepCosts& costs, const DeviceProfile& device) {
  FC_CHECK(device.conv_flops > 0 && device.gemm_flops > 0 && device.other_flops > 0 && device.bytes_per_s > 0,
           "simulate: device profile ", device.name, " has a non-positive rate");
  ComputeTimes t;
  std::vector<double> backward_done(costs.nodes.size(), 0);
  for (size_t i = 0; i < costs.nodes.size(); ++i) {
    const NodeStepCost& n = costs.nodes[i];
    const double s = node_seconds(n, device);
    switch (n.phase) {
      case StepPhase::Forward: t.forward_s += s; break;
      case StepPhase::Backward: t.backward_s += s; break;
      case StepPhase::Update: t.update_s += s; break;
      case StepPhase::Communication: break;  // step_costs keeps no such node: its gradients are costed instead
    }
    backward_done[i] = t.backward_s;
  }
  for (const GradientCost& g : costs.gradients)
    t.gradients.push_back({static_cast<size_t>(g.bytes), g.producer < backward_done.size() ? backward_done[g.producer] : 0});
  return t;
}

double single_worker_epoch_s(const StepCosts& costs, const DeviceProfile& device, int64_t epoch_samples) {
  FC_CHECK(costs.batch >= 1 && epoch_samples >= 1, "simulate: batch and epoch size must be >= 1");
  const int64_t iterations = (epoch_samples + costs.batch - 1) / costs.batch;
  return static_cast<double>(iterations) * compute_times(costs, device).total_s();
}

ScalingPoint predict_scaling_point(const StepCosts& costs, const DeviceProfile& device, const ScalingQuery& q) {
  FC_CHECK(q.workers >= 1, "simulate: workers must be >= 1, got ", q.workers);
  FC_CHECK(q.global_batch >= q.workers && q.global_batch % q.workers == 0, "simulate: global batch ", q.global_batch,
           " is not a multiple of ", q.workers, " workers");
  FC_CHECK(costs.batch == q.global_batch / q.workers, "simulate: step costs at batch ", costs.batch,
           ", expected the per-worker batch ", q.global_batch / q.workers);
  FC_CHECK(q.epoch_samples >= 1, "simulate: epoch size must be >= 1");
  ScalingPoint p;
  p.workers = q.workers;
  p.global_batch = q.global_batch;
  p.per_worker_batch = costs.batch;
  p.iterations_per_epoch = (q.epoch_samples + q.global_batch - 1) / q.global_batch;
  p.compute = compute_times(costs, device);
  const double gradient_bytes = costs.gradient_bytes();
  const double base = p.compute.total_s();
  const bool alone = q.workers == 1;
  for (const std::string& a : q.algorithms) {
    p.comm_s[a] = alone || !q.comm.seconds ? 0.0 : q.comm.seconds(a, gradient_bytes);
    p.step_s[a] = base + p.comm_s[a];
  }
  if (!alone && q.comm.seconds && !p.compute.gradients.empty()) {
    p.bucketed = plan_buckets_by_cost(p.compute.gradients, p.compute.backward_s, q.comm, "auto");
  } else {
    p.bucketed.backward_s = p.compute.backward_s;
  }
  p.step_s["bucketed"] = base + p.bucketed.exposed_s;
  for (const auto& [k, step] : p.step_s) {
    p.epoch_s[k] = static_cast<double>(p.iterations_per_epoch) * step;
    if (q.baseline_epoch_s > 0) p.speedup[k] = q.baseline_epoch_s / p.epoch_s[k];
  }
  return p;
}

}  // namespace fc::passes
