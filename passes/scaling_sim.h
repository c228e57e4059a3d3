// Data-parallel scaling simulator: the time of one training step, and of one epoch, on W workers
// at a global batch B, from the training graph's per-node costs, a device profile and an allreduce
// cost model; and the speedup over one worker. What `fcc simulate` prints.
//
// Model (every figure per worker, per iteration, at the per-worker batch b = B / W):
//   node time      max(flops / class rate, bytes / memory bandwidth)   (roofline per node; the class
//                  rate is the device's sustained FLOP/s on convolutions, on Gemm/MatMul, or on the rest:
//                  passes/node_cost.h, the bucketing pass's model too)
//   compute        forward (up to the loss) + backward (after it) + optimizer updates
//   comm(alg)      one allreduce of all gradients after backward (FireCaffe's schedule; the callback
//                  is distrib/cost_model.h's alpha-beta formula for the algorithm and W workers)
//   step(alg)      forward + backward + comm(alg) + update           (no overlap)
//   bucketed       buckets sized by the cost model (plan_buckets_by_cost, per-bucket algorithm
//                  "auto"), each reduced as soon as its last gradient is ready, overlapped with the
//                  rest of backward: step = forward + backward + exposed communication + update
//   epoch          ceil(epoch_samples / B) steps
//   speedup        epoch time of one worker (at the baseline batch, default B; it has no communication)
//                  over the epoch time at W workers
// Pure: the graph is read once per per-worker batch into plain data (StepCosts); everything after
// that is a function of numbers, which the unit tests call directly. No MPI: the communication
// model is a callback (cli/ builds it from distrib/cost_model.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/step_analysis.h"
#include "passes/allreduce_buckets.h"
#include "passes/node_cost.h"

namespace fc::passes {

using ir::StepPhase;  // (ir/step_analysis.h) a step cost's node is never Communication: those are its gradients

// Presets: "cpu" (one core of this machine), "k20x" (FireCaffe's GPU), "p100", "v100", "a100",
// "h100". Unknown names throw fc::Error listing the known ones.
DeviceProfile device_profile(const std::string& name);
const std::vector<std::string>& device_profile_names();
// The same profile with every FLOP rate scaled so that convolutions run at `conv_gflops` GFLOP/s
// (the relative rates of the classes are kept).
DeviceProfile with_conv_gflops(DeviceProfile profile, double conv_gflops);

struct NodeStepCost {
  OpClass cls = OpClass::Other;
  StepPhase phase = StepPhase::Forward;
  double flops = 0, bytes = 0;
};

struct GradientCost {
  double bytes = 0;
  size_t producer = 0;  // index into StepCosts::nodes of the node computing it (backward order)
};

// One training step's costs at one per-worker batch, as plain data.
struct StepCosts {
  int64_t batch = 0;
  std::vector<NodeStepCost> nodes;      // in execution order; fc.AllReduce nodes are left out
  std::vector<GradientCost> gradients;  // in backward completion order
  double gradient_bytes() const;
};

// Reads a training graph (as passes::build_training_graph makes it: forward, loss, backward,
// fc.AllReduce buckets, optimizer updates) at per-worker batch `batch`. Nodes up to and including
// the producer of `loss` are forward; SGDUpdate / AdamWUpdate are updates; the rest is backward.
// Gradients are the inputs of the fc.AllReduce nodes, or, when there are none, the gradient input
// of each optimizer update.
StepCosts step_costs(const ir::Graph& train, const ir::Value* loss, int64_t batch);

struct ComputeTimes {
  double forward_s = 0, backward_s = 0, update_s = 0;
  std::vector<GradientSlot> gradients;  // ready_s: backward time until computed
  double total_s() const { return forward_s + backward_s + update_s; }
};
double node_seconds(const NodeStepCost& n, const DeviceProfile& device);
ComputeTimes compute_times(const StepCosts& costs, const DeviceProfile& device);

// The prediction for one (workers, global batch).
struct ScalingPoint {
  int workers = 1;
  int64_t global_batch = 0, per_worker_batch = 0;
  int64_t iterations_per_epoch = 0;
  ComputeTimes compute;
  std::map<std::string, double> comm_s;    // whole gradient after backward, per algorithm
  BucketPlan bucketed;                     // cost-model buckets, overlapped with backward
  std::map<std::string, double> step_s;    // per algorithm, and "bucketed"
  std::map<std::string, double> epoch_s;   // the same keys
  std::map<std::string, double> speedup;   // the same keys
};

struct ScalingQuery {
  int workers = 1;
  int64_t global_batch = 0;
  int64_t epoch_samples = 1281167;  // ImageNet-1k training images
  // Algorithms for comm_s / step_s (one allreduce after backward), and the bucketed plan's model
  // (its `algorithms` are the per-bucket candidates).
  std::vector<std::string> algorithms;
  CommModel comm;
  double baseline_epoch_s = 0;  // one worker's epoch (speedup denominator); 0: no speedup filled in
};

// `costs` must be at the query's per-worker batch.
ScalingPoint predict_scaling_point(const StepCosts& costs, const DeviceProfile& device, const ScalingQuery& query);
// One worker's epoch at `batch` (no communication).
double single_worker_epoch_s(const StepCosts& costs, const DeviceProfile& device, int64_t epoch_samples);

}  // namespace fc::passes
