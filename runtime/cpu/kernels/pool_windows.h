// Pooling windows on the CPU, shared by the pooling kernels that do not go through oneDNN
// (max_pool.cpp, pool_grad.cpp): the geometry of each window over a plain [N*C, D0, D1, D2]
// input (1-D and 2-D pools run as 3-D ones with leading size-1 axes), and the search for each
// window's first maximum in window order (last axis fastest), PyTorch's rule: the first of equal
// maxima wins and a NaN counts as the maximum. MaxPool's training forward records what this search
// finds and MaxPoolGrad without that record recomputes it, so both route gradients alike.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace fc::runtime::cpu {

constexpr size_t kPoolAxes = 3;

struct PoolAxis {
  int64_t in = 1, out = 1, k = 1, s = 1, d = 1;
  int64_t pad_begin = 0, pad_end = 0;  // pad_end: the declared padding (count_include_pad's divisor)

  int64_t start(int64_t o) const { return o * s - pad_begin; }
  // Taps j in [first, last) of the window at `o` that land inside [lo, hi) of the padded axis.
  int64_t first(int64_t o, int64_t lo) const { return std::max<int64_t>(0, ceil_div(lo - start(o), d)); }
  int64_t last(int64_t o, int64_t hi) const { return std::min(k, ceil_div(hi - start(o), d)); }
  static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
};

struct PoolGeometry {
  int64_t planes = 0;  // N * C
  PoolAxis axes[kPoolAxes];

  int64_t in_plane() const { return axes[0].in * axes[1].in * axes[2].in; }
  int64_t out_plane() const { return axes[0].out * axes[1].out * axes[2].out; }
  int64_t taps() const { return axes[0].k * axes[1].k * axes[2].k; }
};

// The geometry of `node`'s windows (MaxPool / AveragePool attributes) over an input of dims `x`.
PoolGeometry pool_geometry(const ir::Node& node, const std::vector<int64_t>& x);
// One window over all spatial axes of x (the global pools).
PoolGeometry global_pool_geometry(const std::vector<int64_t>& x);

// The taps of one output position that lie inside x, as offsets into an [D0, D1, D2] plane.
struct PoolWindow {
  const PoolAxis &a0, &a1, &a2;
  int64_t o0, o1, o2;
  int64_t f0 = a0.first(o0, 0), l0 = a0.last(o0, a0.in);
  int64_t f1 = a1.first(o1, 0), l1 = a1.last(o1, a1.in);
  int64_t f2 = a2.first(o2, 0), l2 = a2.last(o2, a2.in);

  bool empty() const { return f0 >= l0 || f1 >= l1 || f2 >= l2; }
  int64_t inside() const { return (l0 - f0) * (l1 - f1) * (l2 - f2); }
  template <typename F>
  void for_each(F&& f) const {  // window order: last axis fastest
    for (int64_t j0 = f0; j0 < l0; ++j0) {
      const int64_t r0 = a0.start(o0) + j0 * a0.d;
      for (int64_t j1 = f1; j1 < l1; ++j1) {
        const int64_t r1 = (r0 * a1.in + a1.start(o1) + j1 * a1.d) * a2.in + a2.start(o2);
        for (int64_t j2 = f2; j2 < l2; ++j2) f(r1 + j2 * a2.d);
      }
    }
  }
};

// Eight float / int32 lanes as GCC / Clang vector types (one AVX2 register each), written without
// intrinsics: a plain lane loop vectorised badly (GCC split it into 4 + 2 + 1 + 1 lanes, gathering).
using FloatLanes = float __attribute__((vector_size(32)));
using IntLanes = int32_t __attribute__((vector_size(32)));
constexpr int kSearchLanes = 8;

// Finds each window's first maximum in window order (PyTorch's rule: the first of equal maxima; a NaN
// counts as the maximum, and a later NaN replaces an earlier one). search(x, p0, found) visits planes
// [p0, p0 + block()) (fewer at the end) and calls found(p, o, i) for every output position: p the
// plane, o the output offset in the plane, i the input offset in the plane of the window's first
// maximum, or -1 for a window wholly outside x (none in a MaxPool that shape inference accepts).
// Two ways, both one window per vector lane, so that the compares vectorise (one window at a time
// this search was 13% of a SqueezeNet step):
//   - wide 2-D planes without dilation (every CNN's early pools), where at least half of each row's
//     windows lie wholly inside x in stretches of 8 or more: kSearchLanes adjacent windows of an
//     output row, one plane at a time (block 1); their columns are affine, so a stride known at
//     compile time (1, 2) makes the loads vector loads and shuffles;
//   - anything else (narrow planes such as 14x14 -> 7x7, 8x8 -> 8x8 with padding, 1-D, 3-D,
//     dilation): the same window in kSearchLanes planes at a time (block kSearchLanes), its taps
//     from a table made once.
class MaxWindowSearch {
 public:
  // `node` names the pool in errors.
  MaxWindowSearch(const PoolGeometry& g, const ir::Node& node);

  const PoolGeometry& geometry() const { return geometry_; }
  int64_t block() const { return columns_.empty() ? kSearchLanes : 1; }

  template <typename Found>
  void search(const float* x, int64_t p0, Found&& found) const {
    if (columns_.empty()) return plane_lanes(x, p0, found);
    const int64_t in_plane = geometry_.in_plane();
    const float* xp = x + p0 * in_plane;
    const PoolAxis &r = geometry_.axes[1], &c = geometry_.axes[2];
    for (int64_t o1 = 0; o1 < r.out; ++o1) {
      const int64_t row_first = r.start(o1) + r.first(o1, 0), row_last = r.start(o1) + r.last(o1, r.in);
      if (row_first >= row_last) {
        for (int64_t o2 = 0; o2 < c.out; ++o2) found(p0, o1 * c.out + o2, int64_t{-1});
        continue;
      }
      for (const ColumnRun& run : columns_) {
        const int64_t o = o1 * c.out + run.first_out;
        if (run.lanes > 0) {
          int32_t best_i[kSearchLanes];
          search_run(xp, row_first, row_last, col_first_[static_cast<size_t>(run.first_out)], c, best_i);
          for (int64_t q = kSearchLanes - run.lanes; q < kSearchLanes; ++q) found(p0, o + q, int64_t{best_i[q]});
          continue;
        }
        if (run.col_first >= run.col_last) {
          found(p0, o, int64_t{-1});
          continue;
        }
        // Branch-free selection (conditional moves): after a ReLU half the taps tie at 0 and a
        // branch on each comparison mispredicts (this loop took 69 ms of a SqueezeNet step with branches).
        int64_t best_i = row_first * c.in + run.col_first;
        float best = xp[best_i];
        for (int64_t i1 = row_first; i1 < row_last; ++i1)
          for (int64_t i = i1 * c.in + run.col_first; i < i1 * c.in + run.col_last; ++i) {
            const float v = xp[i];
            const bool take = (v > best) | (v != v);  // a NaN counts as the maximum
            best = take ? v : best;
            best_i = take ? i : best_i;
          }
        found(p0, o, best_i);
      }
    }
  }

 private:
  // The same window in kSearchLanes planes (spare lanes, past the last plane, repeat it unreported).
  // The planes are first interleaved into a per-thread buffer (element i of lane q at i * 8 + q),
  // read plane by plane, so that every tap is one contiguous vector load: gathering each tap from
  // the eight planes instead was 4x slower than oneDNN's pooling (latency-bound gathers).
  template <typename Found>
  void plane_lanes(const float* x, int64_t p0, Found& found) const {
    const int64_t planes = std::min<int64_t>(kSearchLanes, geometry_.planes - p0);
    const FloatLanes* lanes = interleave(x, p0, planes);
    for (size_t o = 0; o + 1 < tap_begin_.size(); ++o) {
      const int32_t* tap = taps_.data() + tap_begin_[o];
      const int32_t* end = taps_.data() + tap_begin_[o + 1];
      if (tap == end) {
        for (int64_t q = 0; q < planes; ++q) found(p0 + q, static_cast<int64_t>(o), int64_t{-1});
        continue;
      }
      FloatLanes best = lanes[*tap];
      IntLanes best_i = IntLanes{} + *tap;
      for (++tap; tap < end; ++tap) {
        const FloatLanes v = lanes[*tap];
        const IntLanes take = (v > best) | (v != v);  // a NaN counts as the maximum
        best = take ? v : best;
        best_i = take ? IntLanes{} + *tap : best_i;
      }
      for (int64_t q = 0; q < planes; ++q) found(p0 + q, static_cast<int64_t>(o), int64_t{best_i[q]});
    }
  }
  // Planes [p0, p0 + planes) of x interleaved into this thread's buffer (lanes past `planes` repeat
  // the last one).
  const FloatLanes* interleave(const float* x, int64_t p0, int64_t planes) const;

  // kSearchLanes adjacent whole windows of one output row, the first starting at input column `col`,
  // over input rows [row_first, row_last); lane q's columns are col + q * stride + j.
  static void search_run(const float* xp, int64_t row_first, int64_t row_last, int64_t col, const PoolAxis& c,
                         int32_t* best_i);

  // The output columns of a wide 2-D max pool, cut once into runs of kSearchLanes adjacent windows
  // lying wholly inside x (the last run of a stretch overlaps the one before it; only its `lanes`
  // last lanes are new) and single windows (cut by padding or ceil mode, or in stretches shorter
  // than kSearchLanes).
  struct ColumnRun {
    int64_t first_out = 0, lanes = 0;     // lanes > 0: a run of kSearchLanes windows, the last `lanes` new
    int64_t col_first = 0, col_last = 0;  // a single window's input columns [col_first, col_last)
  };
  void plan_columns();
  void plan_taps(const ir::Node& node);

  PoolGeometry geometry_;
  std::vector<int64_t> col_first_;  // wide 2-D: each output column's first input column
  std::vector<ColumnRun> columns_;  // wide 2-D: the runs; empty: plane lanes
  std::vector<int32_t> taps_;       // plane lanes: every window's taps inside x, in window order
  std::vector<size_t> tap_begin_;   // plane lanes: window o's taps are [tap_begin_[o], tap_begin_[o + 1])
};

}  // namespace fc::runtime::cpu
