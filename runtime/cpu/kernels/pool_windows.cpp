#include "runtime/cpu/kernels/pool_windows.h"

#include <cstring>

#include "support/error.h"

#include "ir/ops/window.h"

namespace fc::runtime::cpu {

PoolGeometry pool_geometry(const ir::Node& node, const std::vector<int64_t>& x) {
  const size_t k = x.size() - 2;
  const ir::WindowAttrs w = ir::read_window_attrs(node, k, {}, /*allow_ceil_mode=*/true);
  PoolGeometry g;
  g.planes = x[0] * x[1];
  for (size_t i = 0; i < k; ++i) {
    const ir::AxisWindow a = ir::resolve_axis(w, i, x[2 + i], node);
    g.axes[kPoolAxes - k + i] = {x[2 + i], a.out, w.kernel[i], w.strides[i], w.dilations[i], a.pad_begin, a.pad_end};
  }
  return g;
}

PoolGeometry global_pool_geometry(const std::vector<int64_t>& x) {
  const size_t k = x.size() - 2;
  PoolGeometry g;
  g.planes = x[0] * x[1];
  for (size_t i = 0; i < k; ++i) g.axes[kPoolAxes - k + i] = {x[2 + i], 1, x[2 + i], 1, 1, 0, 0};
  return g;
}

MaxWindowSearch::MaxWindowSearch(const PoolGeometry& g, const ir::Node& node) : geometry_(g) {
  const PoolAxis* a = geometry_.axes;
  const bool wide_2d = a[0].in == 1 && a[0].k == 1 && a[1].d == 1 && a[2].d == 1 && a[2].out >= kSearchLanes &&
                       a[1].in * a[2].in < (int64_t{1} << 31);  // lane offsets are int32
  if (wide_2d) plan_columns();
  // Rows where padding or ceil mode leave fewer than 8 whole windows in a stretch (8 -> 8 with
  // padding, 16 -> 8 in ceil mode) would be all single windows: 8 planes at a time is faster there.
  int64_t in_runs = 0;
  for (const ColumnRun& run : columns_) in_runs += run.lanes;
  if (2 * in_runs < a[2].out) columns_.clear();
  if (columns_.empty()) plan_taps(node);
}

void MaxWindowSearch::plan_columns() {
  const PoolAxis& c = geometry_.axes[2];
  for (int64_t o = 0; o < c.out; ++o) col_first_.push_back(c.start(o) + c.first(o, 0));
  const auto whole = [&](int64_t o) { return c.first(o, 0) == 0 && c.last(o, c.in) == c.k; };
  for (int64_t o = 0; o < c.out;) {
    int64_t stretch = 0;  // whole windows from o on
    while (o + stretch < c.out && whole(o + stretch)) ++stretch;
    if (stretch < kSearchLanes) {
      columns_.push_back({o, 0, col_first_[static_cast<size_t>(o)], c.start(o) + c.last(o, c.in)});
      ++o;
      continue;
    }
    for (int64_t done = 0; done < stretch; done += kSearchLanes) {
      const int64_t fresh = std::min<int64_t>(kSearchLanes, stretch - done);
      columns_.push_back({o + done + fresh - kSearchLanes, fresh});
    }
    o += stretch;
  }
}

void MaxWindowSearch::plan_taps(const ir::Node& node) {
  FC_CHECK(geometry_.in_plane() < (int64_t{1} << 31), node.describe(), ": planes of ", geometry_.in_plane(),
           " elements do not fit the max-pooling search's int32 offsets");
  const PoolAxis &a0 = geometry_.axes[0], &a1 = geometry_.axes[1], &a2 = geometry_.axes[2];
  tap_begin_.push_back(0);
  for (int64_t o0 = 0; o0 < a0.out; ++o0)
    for (int64_t o1 = 0; o1 < a1.out; ++o1)
      for (int64_t o2 = 0; o2 < a2.out; ++o2) {
        PoolWindow{a0, a1, a2, o0, o1, o2}.for_each([&](int64_t i) { taps_.push_back(static_cast<int32_t>(i)); });
        tap_begin_.push_back(taps_.size());
      }
}

const FloatLanes* MaxWindowSearch::interleave(const float* x, int64_t p0, int64_t planes) const {
  thread_local std::vector<FloatLanes> buffer;
  const int64_t n = geometry_.in_plane();
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
  float* out = reinterpret_cast<float*>(buffer.data());
  for (int64_t q = 0; q < kSearchLanes; ++q) {
    const float* plane = x + (p0 + std::min(q, planes - 1)) * n;
    for (int64_t i = 0; i < n; ++i) out[i * kSearchLanes + q] = plane[i];
  }
  return buffer.data();
}

namespace {

// p[q * Stride] for q < 8; Stride 0: `stride`, known at run time. Reads no element past p[7 * stride].
template <int64_t Stride>
FloatLanes load_lanes(const float* p, int64_t stride) {
  FloatLanes v;
  if constexpr (Stride == 1) {
    std::memcpy(&v, p, sizeof v);
  } else if constexpr (Stride == 2) {
    FloatLanes a, b;  // p[0..7] and p[7..14]
    std::memcpy(&a, p, sizeof a);
    std::memcpy(&b, p + 7, sizeof b);
    v = __builtin_shufflevector(a, b, 0, 2, 4, 6, 9, 11, 13, 15);
  } else {
    for (int q = 0; q < kSearchLanes; ++q) v[q] = p[q * stride];
  }
  return v;
}

template <int64_t Stride>
void search_columns(const float* xp, int64_t row_first, int64_t row_last, int64_t col, int64_t stride, int64_t width,
                    int64_t k, int32_t* best_i_out) {
  const int64_t s = Stride ? Stride : stride;
  IntLanes lane_offset;
  for (int q = 0; q < kSearchLanes; ++q) lane_offset[q] = static_cast<int32_t>(q * s);
  const int32_t first = static_cast<int32_t>(row_first * width + col);
  FloatLanes best = load_lanes<Stride>(xp + first, s);
  IntLanes best_i = first + lane_offset;
  for (int64_t i1 = row_first; i1 < row_last; ++i1)
    for (int64_t j = 0; j < k; ++j) {
      const int32_t base = static_cast<int32_t>(i1 * width + col + j);
      const FloatLanes v = load_lanes<Stride>(xp + base, s);
      const IntLanes take = (v > best) | (v != v);  // a NaN counts as the maximum
      best = take ? v : best;
      best_i = take ? base + lane_offset : best_i;
    }
  std::memcpy(best_i_out, &best_i, sizeof best_i);
}

}  // namespace

void MaxWindowSearch::search_run(const float* xp, int64_t row_first, int64_t row_last, int64_t col, const PoolAxis& c,
                                 int32_t* best_i) {
  if (c.s == 1) return search_columns<1>(xp, row_first, row_last, col, 1, c.in, c.k, best_i);
  if (c.s == 2) return search_columns<2>(xp, row_first, row_last, col, 2, c.in, c.k, best_i);
  search_columns<0>(xp, row_first, row_last, col, c.s, c.in, c.k, best_i);
}

}  // namespace fc::runtime::cpu
