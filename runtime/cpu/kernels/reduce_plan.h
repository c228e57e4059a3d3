// The loop structure of a reduction over some axes of a row-major tensor, shared by the Reduce*
// kernels (reduce.cpp) and their gradients (reduce_grad.cpp). See reduce.cpp for how it is walked.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/cpu/kernels/broadcast_loop.h"  // kParallelMinElements

namespace fc::runtime::cpu {

struct ReduceGroup {
  int64_t size, stride;
};

// The loop structure of one reduction, fixed by the input shape.
struct ReducePlan {
  std::vector<ReduceGroup> outer;    // kept groups before the lanes, outermost first
  std::vector<ReduceGroup> reduced;  // reduced groups, outermost first
  int64_t lanes = 1;           // size of a trailing kept group (contiguous), else 1
  int64_t count = 1;           // elements reduced into each output
};

inline ReducePlan plan_reduce(const std::vector<int64_t>& dims, const std::vector<bool>& mask) {
  // Merge adjacent dims with the same kind; size-1 dims are dropped.
  std::vector<std::pair<int64_t, bool>> merged;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    if (!merged.empty() && merged.back().second == mask[i]) merged.back().first *= dims[i];
    else merged.push_back({dims[i], static_cast<bool>(mask[i])});
  }
  ReducePlan p;
  int64_t stride = 1;
  for (size_t i = merged.size(); i-- > 0;) {
    const auto [size, red] = merged[i];
    if (red) {
      p.reduced.insert(p.reduced.begin(), ReduceGroup{size, stride});
      p.count *= size;
    } else if (i + 1 == merged.size()) {
      p.lanes = size;
    } else {
      p.outer.insert(p.outer.begin(), ReduceGroup{size, stride});
    }
    stride *= size;
  }
  return p;
}

inline constexpr int64_t kReduceLaneChunk = 256;  // lanes per work item

// The one walk over a reduction, shared by the reduction kernels and their gradients.
// Calls item(out_offset, lanes, run) for every work item, in parallel for large x; run(fn) calls
// fn(x_offset, stride, n) for the item's reduced positions in row-major order: n rows of `lanes`
// contiguous elements starting at x_offset + j * stride.
template <typename Item>
inline void for_each_item(const ReducePlan& p, Item&& item) {
  int64_t outer = 1;
  for (const ReduceGroup& g : p.outer) outer *= g.size;
  const int64_t chunks = (p.lanes + kReduceLaneChunk - 1) / kReduceLaneChunk;
  const ReduceGroup inner = p.reduced.empty() ? ReduceGroup{1, 0} : p.reduced.back();
  const int64_t rest = inner.size ? p.count / inner.size : 0;
  const size_t odometer_groups = p.reduced.empty() ? 0 : p.reduced.size() - 1;
  const int64_t total = outer * p.lanes * std::max<int64_t>(p.count, 1);
#pragma omp parallel for schedule(static) if (total > kParallelMinElements)
  for (int64_t it = 0; it < outer * chunks; ++it) {
    const int64_t o = it / chunks, l0 = (it % chunks) * kReduceLaneChunk;
    const int64_t nl = std::min(kReduceLaneChunk, p.lanes - l0);
    int64_t base = l0, r = o;
    for (size_t g = p.outer.size(); g-- > 0;) {
      base += (r % p.outer[g].size) * p.outer[g].stride;
      r /= p.outer[g].size;
    }
    item(o * p.lanes + l0, nl, [&](auto&& fn) {
      for (int64_t q = 0; q < rest; ++q) {
        int64_t off = base, t = q;
        for (size_t g = odometer_groups; g-- > 0;) {
          off += (t % p.reduced[g].size) * p.reduced[g].stride;
          t /= p.reduced[g].size;
        }
        fn(off, inner.stride, inner.size);
      }
    });
  }
}

}  // namespace fc::runtime::cpu
