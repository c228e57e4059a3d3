// Gradient bucketing: the pure partitioner, and the graph rewrite on a small text-IR training step.
#include <gtest/gtest.h>

#include "passes/allreduce_buckets.h"

using namespace fc;

TEST(AllreduceBuckets, FirstBucketSmallThenFilledUpToTheLimit) {
  // sizes in backward order; first bucket limit 10, later 25
  auto b = passes::plan_buckets({4, 4, 4, 10, 10, 10, 30, 1}, 10, 25);
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[0], (std::vector<size_t>{0, 1}));        // 4+4 fits 10, +4 would not
  EXPECT_EQ(b[1], (std::vector<size_t>{2, 3, 4}));     // 4+10+10 = 24 <= 25
  EXPECT_EQ(b[2], (std::vector<size_t>{5}));           // 10 + 30 > 25
  EXPECT_EQ(b[3], (std::vector<size_t>{6}));           // larger than the limit: a bucket of its own
  EXPECT_EQ(b[4], (std::vector<size_t>{7}));           // 30 + 1 > 25
}

TEST(AllreduceBuckets, EdgeCases) {
  EXPECT_TRUE(passes::plan_buckets({}, 10, 10).empty());
  auto one = passes::plan_buckets({100}, 10, 10);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], (std::vector<size_t>{0}));
}

namespace {

// alpha + bytes * beta for every algorithm.
passes::CommModel linear_model(double alpha, double beta) {
  passes::CommModel m;
  m.algorithms = {"ring"};
  m.seconds = [alpha, beta](const std::string&, double bytes) { return alpha + bytes * beta; };
  return m;
}

std::vector<std::vector<size_t>> groups_of(const passes::BucketPlan& p) {
  std::vector<std::vector<size_t>> g;
  for (const auto& b : p.buckets) g.push_back(b.grads);
  return g;
}

// Three 100-byte gradients ready at 1, 2 and 3 s; backward ends at 3 s.
const std::vector<passes::GradientSlot> kThree = {{100, 1.0}, {100, 2.0}, {100, 3.0}};

}  // namespace

TEST(AllreduceBucketsByCost, CheapMessagesReduceEachGradientWhenReady) {
  // 0.1 s per gradient, no latency: each one hides behind the next second of backward; only the
  // last one is exposed. One bucket would end at 3 + 0.3.
  auto p = passes::plan_buckets_by_cost(kThree, 3.0, linear_model(0.0, 1e-3), "ring");
  EXPECT_EQ(groups_of(p), (std::vector<std::vector<size_t>>{{0}, {1}, {2}}));
  EXPECT_NEAR(p.buckets[0].start_s, 1.0, 1e-12);
  EXPECT_NEAR(p.exposed_s, 0.1, 1e-12);
  EXPECT_NEAR(p.comm_s, 0.3, 1e-12);
  EXPECT_NEAR(p.step_overlapped_s(), 3.1, 1e-12);
  EXPECT_NEAR(p.step_serial_s(), 3.3, 1e-12);
  EXPECT_NEAR(p.buckets[2].exposed_s, 0.1, 1e-12);
  EXPECT_NEAR(p.buckets[0].exposed_s + p.buckets[1].exposed_s, 0.0, 1e-12);
}

TEST(AllreduceBucketsByCost, ExpensiveLatencyMergesEverything) {
  // 10 s per message: separate buckets would queue up to 1 + 3 x 10.1 = 31.3 s; one bucket ends at
  // 3 + 10.3 = 13.3 s, and [0] + [1, 2] at max(1 + 10.1, 3) + 10.2 = 21.3 s.
  auto p = passes::plan_buckets_by_cost(kThree, 3.0, linear_model(10.0, 1e-3), "ring");
  EXPECT_EQ(groups_of(p), (std::vector<std::vector<size_t>>{{0, 1, 2}}));
  EXPECT_NEAR(p.exposed_s, 10.3, 1e-9);
}

TEST(AllreduceBucketsByCost, ModerateLatencyFindsTheOptimum) {
  // alpha 0.5 s: one bucket ends at 3 + 0.8 = 3.8; [0] [1, 2] at 3 + 0.7 = 3.7; [0] [1] [2] at
  // max(3, max(2, 1.6) + 0.6) + 0.6 = 3.6, as does [0, 1] [2] (2 + 0.7 = 2.7, then 3.6). The plan
  // reaches the optimum 3.6 through the prefix that completes earliest ([0] [1] done at 2.6).
  auto p = passes::plan_buckets_by_cost(kThree, 3.0, linear_model(0.5, 1e-3), "ring");
  EXPECT_NEAR(p.step_overlapped_s(), 3.6, 1e-9);
  EXPECT_EQ(groups_of(p), (std::vector<std::vector<size_t>>{{0}, {1}, {2}}));
}

TEST(AllreduceBucketsByCost, AutoPicksTheCheaperAlgorithmPerBucket) {
  passes::CommModel m;
  m.algorithms = {"latency_bound", "bandwidth_bound"};
  m.seconds = [](const std::string& a, double bytes) {
    return a == "latency_bound" ? 1e-3 + bytes * 1e-6 : 1e-2 + bytes * 1e-8;
  };
  // A tiny gradient first (latency wins), then a huge one (bandwidth wins), far apart in time.
  auto p = passes::plan_buckets_by_cost({{10, 1.0}, {10'000'000, 2.0}}, 2.0, m, "auto");
  ASSERT_EQ(p.buckets.size(), 2u);
  EXPECT_EQ(p.buckets[0].algorithm, "latency_bound");
  EXPECT_EQ(p.buckets[1].algorithm, "bandwidth_bound");
  // A fixed algorithm is used for every bucket.
  auto fixed = passes::plan_buckets_by_cost({{10, 1.0}, {10'000'000, 2.0}}, 2.0, m, "latency_bound");
  for (const auto& b : fixed.buckets) EXPECT_EQ(b.algorithm, "latency_bound");
}

TEST(AllreduceBucketsByCost, ScheduleOfGivenGroups) {
  // [0, 1] ready at 2 runs 2 -> 2.7 (alpha 0.5); [2] ready at 3 runs 3 -> 3.6.
  auto p = passes::schedule_buckets({{0, 1}, {2}}, kThree, 3.0, linear_model(0.5, 1e-3), "ring");
  ASSERT_EQ(p.buckets.size(), 2u);
  EXPECT_EQ(p.buckets[0].bytes, 200u);
  EXPECT_NEAR(p.buckets[0].ready_s, 2.0, 1e-12);
  EXPECT_NEAR(p.buckets[1].start_s, 3.0, 1e-12);
  EXPECT_NEAR(p.buckets[0].exposed_s, 0.0, 1e-12);
  EXPECT_NEAR(p.buckets[1].exposed_s, 0.6, 1e-12);
}
