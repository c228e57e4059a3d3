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
