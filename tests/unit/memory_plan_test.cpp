// Static memory planning (runtime/memory_plan.h): hand-checked small cases, and the plan's
// invariants on random lifetimes (no two buffers alive at one position overlap in memory).
#include "runtime/memory_plan.h"

#include <gtest/gtest.h>

#include <random>

#include "support/error.h"

namespace fc::runtime {
namespace {

TEST(MemoryPlan, BuffersNeverAliveTogetherShareMemory) {
  // a chain: x -> node 1 -> y -> node 2 -> z; x and z are never alive at one position.
  const MemoryPlan p = plan_memory({{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}}, 64);
  EXPECT_EQ(p.offsets[0], p.offsets[2]);
  EXPECT_NE(p.offsets[0], p.offsets[1]);
  EXPECT_EQ(p.arena_bytes, 2 * 1024u);  // 1000 rounded up to 64
  EXPECT_EQ(p.peak_live_bytes, 2000u);
}

TEST(MemoryPlan, ANodesOutputsNeverShareWithItsInputs) {
  // Produced at 3 and read at 3 by nothing else: [3, 3] still overlaps an input read at 3.
  const MemoryPlan p = plan_memory({{256, 0, 3}, {256, 3, 5}}, 64);
  EXPECT_NE(p.offsets[0], p.offsets[1]);
}

TEST(MemoryPlan, LargestFirstFillsGaps) {
  // Big lives 0..1 and 4..5 (two buffers); a small one at 2..3 reuses their space.
  const MemoryPlan p = plan_memory({{4096, 0, 1}, {64, 2, 3}, {4096, 4, 5}}, 64);
  EXPECT_EQ(p.arena_bytes, 4096u);
  EXPECT_EQ(p.offsets[1], 0u);
}

TEST(MemoryPlan, EmptyAndZeroSized) {
  EXPECT_EQ(plan_memory({}).arena_bytes, 0u);
  const MemoryPlan p = plan_memory({{0, 0, 0}, {0, 0, 0}}, 16);
  EXPECT_NE(p.offsets[0], p.offsets[1]);  // distinct addresses even when empty
  EXPECT_THROW(plan_memory({{8, 2, 1}}), Error);
  EXPECT_THROW(plan_memory({{8, 0, 1}}, 48), Error);
}

TEST(MemoryPlan, RandomLifetimesNeverCollide) {
  const unsigned seed = 12345;
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferLifetime> bs;
    const int n = 1 + static_cast<int>(rng() % 200);
    size_t sum = 0;
    for (int i = 0; i < n; ++i) {
      const int first = static_cast<int>(rng() % 100);
      const int last = first + static_cast<int>(rng() % 20);
      const size_t bytes = (rng() % 4 == 0) ? rng() % 1000000 : rng() % 5000;
      bs.push_back({bytes, first, last});
      sum += (bytes + 63) / 64 * 64 + 64;
    }
    const MemoryPlan p = plan_memory(bs, 64);
    ASSERT_GE(p.arena_bytes, p.peak_live_bytes) << "seed " << seed << " trial " << trial;
    ASSERT_LE(p.arena_bytes, sum);
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(p.offsets[i] % 64, 0u);
      ASSERT_LE(p.offsets[i] + bs[i].bytes, p.arena_bytes);
      for (int j = i + 1; j < n; ++j) {
        const bool alive_together = bs[i].first <= bs[j].last && bs[j].first <= bs[i].last;
        const bool memory_overlaps = p.offsets[i] < p.offsets[j] + std::max<size_t>(bs[j].bytes, 1) &&
                                     p.offsets[j] < p.offsets[i] + std::max<size_t>(bs[i].bytes, 1);
        ASSERT_FALSE(alive_together && memory_overlaps)
            << "seed " << seed << " trial " << trial << ": buffers " << i << " and " << j;
      }
    }
  }
}

}  // namespace
}  // namespace fc::runtime
