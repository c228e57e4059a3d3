// The loop structure of a reduction over some axes of a row-major tensor, shared by the Reduce*
// kernels (reduce.cpp) and their gradients (reduce_grad.cpp). See reduce.cpp for how it is walked.
#pragma once

#include <cstdint>
#include <vector>

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

}  // namespace fc::runtime::cpu
