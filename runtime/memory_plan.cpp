// Greedy-by-size static memory planning (see memory_plan.h).
#include "runtime/memory_plan.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "support/error.h"

namespace fc::runtime {

namespace {

size_t round_up(size_t n, size_t alignment) { return (n + alignment - 1) & ~(alignment - 1); }

// The sum of sizes alive at the busiest position (a sweep over interval ends).
size_t peak_live(const std::vector<BufferLifetime>& buffers) {
  std::map<int, long long> delta;
  for (const BufferLifetime& b : buffers) {
    delta[b.first] += static_cast<long long>(b.bytes);
    delta[b.last + 1] -= static_cast<long long>(b.bytes);
  }
  long long live = 0, peak = 0;
  for (const auto& [position, change] : delta) {
    live += change;
    peak = std::max(peak, live);
  }
  return static_cast<size_t>(peak);
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, size_t alignment) {
  FC_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0, "memory plan: alignment must be a power of two");
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  for (const BufferLifetime& b : buffers) FC_CHECK(b.first <= b.last, "memory plan: lifetime ends before it starts");
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first < buffers[b].first;
  });
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<size_t> placed;  // indices, in placement order
  std::vector<std::pair<size_t, size_t>> taken;  // [begin, end) of live-overlapping placed buffers
  for (size_t i : order) {
    const BufferLifetime& b = buffers[i];
    const size_t size = round_up(std::max<size_t>(b.bytes, 1), alignment);
    taken.clear();
    for (size_t j : placed)
      if (buffers[j].first <= b.last && b.first <= buffers[j].last)
        taken.emplace_back(plan.offsets[j], plan.offsets[j] + round_up(std::max<size_t>(buffers[j].bytes, 1), alignment));
    std::sort(taken.begin(), taken.end());
    size_t offset = 0;  // the first gap that fits
    for (const auto& [begin, end] : taken) {
      if (offset + size <= begin) break;
      offset = std::max(offset, end);
    }
    plan.offsets[i] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    placed.push_back(i);
  }
  plan.peak_live_bytes = peak_live(buffers);
  return plan;
}

}  // namespace fc::runtime
