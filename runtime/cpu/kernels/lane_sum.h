// Sums over a row in double with kSumLanes interleaved partial sums (element j goes to lane
// j % kSumLanes), the lanes then added in lane order. One running sum is a chain of dependent adds,
// a few cycles each; independent lanes let the compiler keep them in one vector register. The order
// is fixed by the row length alone, so a result never depends on the thread count.
#pragma once

#include <cstdint>

namespace fc::runtime::cpu {

inline constexpr int kSumLanes = 8;

// sum over j in [0, n) of term(j).
template <typename Term>
double lane_sum(int64_t n, const Term& term) {
  double lanes[kSumLanes] = {};
  int64_t j = 0;
  for (; j + kSumLanes <= n; j += kSumLanes)
    for (int l = 0; l < kSumLanes; ++l) lanes[l] += term(j + l);
  for (int l = 0; j < n; ++j, ++l) lanes[l] += term(j);
  double s = 0;
  for (double v : lanes) s += v;
  return s;
}

}  // namespace fc::runtime::cpu
