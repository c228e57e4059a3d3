// The scaling simulator (passes/scaling_sim.h) against hand-computed roofline and alpha-beta
// values, and its reading of a real training graph (a 2-layer MLP through build_training_graph).
#include "passes/scaling_sim.h"

#include <gtest/gtest.h>

#include <cmath>

#include "distrib/cost_model.h"
#include "support/error.h"
#include "ir/text_format.h"
#include "passes/training_graph.h"
#include "tiny_mlp_ir.h"

using namespace fc;
using passes::OpClass;
using passes::StepPhase;

namespace {

// conv 100 GFLOP/s, gemm 50, other 10, memory 1 GB/s.
passes::DeviceProfile toy_device() {
  passes::DeviceProfile d;
  d.name = "toy";
  d.conv_flops = 100e9;
  d.gemm_flops = 50e9;
  d.other_flops = 10e9;
  d.bytes_per_s = 1e9;
  return d;
}

// forward: conv 1 GFLOP (10 ms), relu 1e6 FLOP / 10 MB (memory bound: 10 ms)
// backward: conv grad 2 GFLOP (20 ms), gemm 1 GFLOP (20 ms)
// update: 1 MB (1 ms)
// gradients: 4 MB ready after the conv grad (20 ms), 1 MB after the gemm (40 ms)
passes::StepCosts toy_costs(int64_t batch) {
  passes::StepCosts s;
  s.batch = batch;
  s.nodes = {{OpClass::Conv, StepPhase::Forward, 1e9, 1e6},
             {OpClass::Other, StepPhase::Forward, 1e6, 1e7},
             {OpClass::Conv, StepPhase::Backward, 2e9, 1e6},
             {OpClass::Gemm, StepPhase::Backward, 1e9, 1e6},
             {OpClass::Other, StepPhase::Update, 1e3, 1e6}};
  s.gradients = {{4e6, 2}, {1e6, 3}};
  return s;
}

// distrib's alpha-beta model over `ranks` ranks, one per host: alpha 10 us, 1 GB/s.
passes::CommModel alpha_beta(int ranks) {
  distrib::Interconnect ic = distrib::with_topology(distrib::custom_interconnect(10, 8), 1, ranks);
  passes::CommModel m;
  m.algorithms = {"ring", "halving_doubling", "tree"};
  m.seconds = [ic](const std::string& a, double bytes) {
    return distrib::predicted_allreduce_seconds(distrib::allreduce_algorithm_from_string(a), ic, bytes);
  };
  return m;
}

}  // namespace

TEST(ScalingSim, OpClasses) {
  EXPECT_EQ(passes::op_class("", "Conv"), OpClass::Conv);
  EXPECT_EQ(passes::op_class("fc", "ConvGradData"), OpClass::Conv);
  EXPECT_EQ(passes::op_class("fc", "ConvGradWeight"), OpClass::Conv);
  EXPECT_EQ(passes::op_class("", "Gemm"), OpClass::Gemm);
  EXPECT_EQ(passes::op_class("", "MatMul"), OpClass::Gemm);
  EXPECT_EQ(passes::op_class("", "Relu"), OpClass::Other);
  EXPECT_EQ(passes::op_class("fc", "SGDUpdate"), OpClass::Other);
}

TEST(ScalingSim, RooflineComputeTimes) {
  const passes::ComputeTimes t = passes::compute_times(toy_costs(8), toy_device());
  EXPECT_NEAR(t.forward_s, 0.020, 1e-12);   // 10 ms conv + max(0.1 ms, 10 ms) relu
  EXPECT_NEAR(t.backward_s, 0.040, 1e-12);  // 20 ms + 20 ms
  EXPECT_NEAR(t.update_s, 0.001, 1e-12);
  EXPECT_NEAR(t.total_s(), 0.061, 1e-12);
  ASSERT_EQ(t.gradients.size(), 2u);
  EXPECT_EQ(t.gradients[0].bytes, 4000000u);
  EXPECT_NEAR(t.gradients[0].ready_s, 0.020, 1e-12);
  EXPECT_NEAR(t.gradients[1].ready_s, 0.040, 1e-12);
}

TEST(ScalingSim, DeviceProfiles) {
  const passes::DeviceProfile k = passes::device_profile("k20x");
  EXPECT_NEAR(k.conv_flops, 3.95e12 * 0.30, 1e3);
  EXPECT_NEAR(k.bytes_per_s, 150e9, 1);
  EXPECT_FALSE(k.source.empty());
  for (const std::string& n : passes::device_profile_names()) EXPECT_GT(passes::device_profile(n).conv_flops, 0) << n;
  EXPECT_THROW(passes::device_profile("k80x"), Error);
  const passes::DeviceProfile s = passes::with_conv_gflops(k, 500);
  EXPECT_NEAR(s.conv_flops, 500e9, 1);
  EXPECT_NEAR(s.gemm_flops / s.conv_flops, 0.45 / 0.30, 1e-12);  // class ratios kept
  EXPECT_THROW(passes::with_conv_gflops(k, 0), Error);
}

TEST(ScalingSim, FourWorkersHandComputedAlphaBeta) {
  // p = 4, alpha = 10 us, 1 GB/s, the whole 5 MB gradient after backward:
  //   tree  2 * 2 * (10 us + 5 ms)          = 20.04 ms
  //   ring  2 * 3 * (10 us + 5 ms / 4)      =  7.56 ms
  //   hd    2 * 2 * 10 us + 2 * 3/4 * 5 ms  =  7.54 ms
  //   ps    2 * 3 * (10 us + 5 ms)          = 30.06 ms
  passes::ScalingQuery q;
  q.workers = 4;
  q.global_batch = 32;
  q.epoch_samples = 320;  // 10 iterations
  q.algorithms = {"ps", "tree", "ring", "halving_doubling"};
  q.comm = alpha_beta(4);
  q.baseline_epoch_s = 40 * 0.061 * 4;  // one worker at batch 32: 4x the compute of batch 8, 10 steps
  const passes::ScalingPoint p = passes::predict_scaling_point(toy_costs(8), toy_device(), q);
  EXPECT_EQ(p.per_worker_batch, 8);
  EXPECT_EQ(p.iterations_per_epoch, 10);
  EXPECT_NEAR(p.comm_s.at("tree"), 0.02004, 1e-12);
  EXPECT_NEAR(p.comm_s.at("ring"), 0.00756, 1e-12);
  EXPECT_NEAR(p.comm_s.at("halving_doubling"), 0.00754, 1e-12);
  EXPECT_NEAR(p.comm_s.at("ps"), 0.03006, 1e-12);
  EXPECT_NEAR(p.step_s.at("tree"), 0.061 + 0.02004, 1e-12);
  EXPECT_NEAR(p.epoch_s.at("tree"), 10 * (0.061 + 0.02004), 1e-12);
  EXPECT_NEAR(p.speedup.at("tree"), q.baseline_epoch_s / (10 * 0.08104), 1e-9);
  // Buckets: the 4 MB gradient is ready at 20 ms of backward and reduces by halving-doubling in
  // 2*2*10 us + 1.5 * 4 ms = 6.04 ms, done at 26.04 ms, hidden; the 1 MB one is ready at the end
  // of backward (40 ms): 40 us + 1.5 ms = 1.54 ms exposed. (Merging both after backward would
  // expose 7.54 ms.)
  ASSERT_EQ(p.bucketed.buckets.size(), 2u);
  EXPECT_EQ(p.bucketed.buckets[0].algorithm, "halving_doubling");
  EXPECT_NEAR(p.bucketed.buckets[0].comm_s, 0.00604, 1e-12);
  EXPECT_NEAR(p.bucketed.exposed_s, 0.00154, 1e-12);
  EXPECT_NEAR(p.step_s.at("bucketed"), 0.061 + 0.00154, 1e-12);
  // Never slower than the best algorithm after backward.
  for (const auto& [alg, step] : p.step_s) EXPECT_LE(p.step_s.at("bucketed"), step + 1e-15) << alg;
}

TEST(ScalingSim, OneWorkerHasNoCommunicationAndSpeedupOne) {
  passes::ScalingQuery q;
  q.workers = 1;
  q.global_batch = 8;
  q.epoch_samples = 100;  // 13 iterations (the last one partial counts whole)
  q.algorithms = {"ps", "tree"};
  q.comm = alpha_beta(1);
  q.baseline_epoch_s = passes::single_worker_epoch_s(toy_costs(8), toy_device(), 100);
  EXPECT_NEAR(q.baseline_epoch_s, 13 * 0.061, 1e-12);
  const passes::ScalingPoint p = passes::predict_scaling_point(toy_costs(8), toy_device(), q);
  EXPECT_EQ(p.comm_s.at("ps"), 0.0);
  EXPECT_TRUE(p.bucketed.buckets.empty());
  for (const auto& [k, s] : p.speedup) EXPECT_NEAR(s, 1.0, 1e-12) << k;
}

TEST(ScalingSim, RejectsBatchNotDivisibleByWorkers) {
  passes::ScalingQuery q;
  q.workers = 3;
  q.global_batch = 32;
  q.comm = alpha_beta(3);
  EXPECT_THROW(passes::predict_scaling_point(toy_costs(10), toy_device(), q), Error);
  q.global_batch = 30;  // per-worker 10, but the costs are at batch 8
  EXPECT_THROW(passes::predict_scaling_point(toy_costs(8), toy_device(), q), Error);
}

TEST(ScalingSim, ReadsATrainingGraph) {
  // 4 -> 8 -> 3 MLP: after build_training_graph, gradients of w1 [8,4], b1 [8], w2 [3,8], b2 [3].
  ir::Graph g = test::tiny_mlp_ir();
  passes::TrainingConfig cfg;
  passes::TrainingGraphInfo info = passes::build_training_graph(g, cfg);
  const ir::Value* loss = g.find_value(info.loss_output);
  ASSERT_NE(loss, nullptr);
  const passes::StepCosts c16 = passes::step_costs(g, loss, 16);
  ASSERT_EQ(c16.gradients.size(), 4u);
  EXPECT_DOUBLE_EQ(c16.gradient_bytes(), (32 + 8 + 24 + 3) * 4.0);
  int forward_gemms = 0, updates = 0;
  double forward_flops = 0;
  for (const passes::NodeStepCost& n : c16.nodes) {
    if (n.phase == StepPhase::Forward && n.cls == OpClass::Gemm) ++forward_gemms;
    if (n.phase == StepPhase::Update) ++updates;
    if (n.phase == StepPhase::Forward && n.cls == OpClass::Gemm) forward_flops += n.flops;
  }
  EXPECT_EQ(forward_gemms, 2);
  EXPECT_EQ(updates, 1);  // the 4 SGD updates of the one allreduce bucket, fused into one kernel
  // Gemm FLOPs (2 per multiply-add) scale with the batch: 2 * 16 * (4*8 + 8*3) at least.
  EXPECT_GE(forward_flops, 2.0 * 16 * (32 + 24));
  // Gradients are in backward order: the output layer's (w2, b2) before the input layer's.
  for (size_t i = 1; i < c16.gradients.size(); ++i)
    EXPECT_LE(c16.gradients[i - 1].producer, c16.gradients[i].producer);
  // Doubling the per-worker batch doubles the forward Gemm FLOPs.
  const passes::StepCosts c32 = passes::step_costs(g, loss, 32);
  double forward32 = 0;
  for (const passes::NodeStepCost& n : c32.nodes)
    if (n.phase == StepPhase::Forward && n.cls == OpClass::Gemm) forward32 += n.flops;
  EXPECT_NEAR(forward32, 2 * forward_flops, 1e-9 * forward32);
}
