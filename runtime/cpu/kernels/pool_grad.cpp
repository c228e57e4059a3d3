// CPU kernels for the pooling backward ops (ir/ops/pool.cpp):
//   fc.MaxPoolGrad(dy: [N, C, O..], x: [N, C, D..]) -> dx: [N, C, D..]
//     each window's dy goes to its first maximum in window order (PyTorch's tie rule; a NaN counts as
//     the maximum), recomputed from x, so the forward needs no index output. (oneDNN's max pooling
//     backward, from a workspace its training forward records, measured no faster here once x, dy
//     and dx are reordered to and from its blocked layout, and it skips NaNs.)
//   fc.AveragePoolGrad(dy, x) -> dx: each window's dy / divisor goes to every tap inside x; the divisor
//     is the forward's: taps inside x (count_include_pad=0), or taps inside x plus its declared padding
//     (count_include_pad=1; the ceil-mode extension beyond the padding does not count).
// Windows are visited per (n, c) plane in parallel; each plane's dx is written by one thread, in
// a fixed order, so results are deterministic.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ir/ops/window.h"
#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

constexpr size_t kAxes = 3;  // 1-D and 2-D pools run as 3-D ones with leading size-1 axes

struct PoolAxis {
  int64_t in = 1, out = 1, k = 1, s = 1, d = 1;
  int64_t pad_begin = 0, pad_end = 0;  // pad_end: the declared padding (count_include_pad's divisor)

  int64_t start(int64_t o) const { return o * s - pad_begin; }
  // Taps j in [first, last) of the window at `o` that land inside [lo, hi) of the padded axis.
  int64_t first(int64_t o, int64_t lo) const { return std::max<int64_t>(0, ceil_div(lo - start(o), d)); }
  int64_t last(int64_t o, int64_t hi) const { return std::min(k, ceil_div(hi - start(o), d)); }
  static int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
};

class PoolGradKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  PoolGradKernel(const KernelSpec& s, bool max) : max_(max) {
    const ir::Node& node = s.node;
    const std::vector<int64_t> x = s.inputs[1].sizes();
    const size_t k = x.size() - 2;
    const ir::WindowAttrs w = ir::read_window_attrs(node, k, {}, /*allow_ceil_mode=*/true);
    planes_ = x[0] * x[1];
    for (size_t i = 0; i < k; ++i) {
      const ir::AxisWindow a = ir::resolve_axis(w, i, x[2 + i], node);
      axes_[kAxes - k + i] = {x[2 + i], a.out, w.kernel[i], w.strides[i], w.dilations[i], a.pad_begin, a.pad_end};
    }
    include_pad_ = !max && node.attr_int("count_include_pad") == 1;
    if (max_ && axes_[0].in == 1 && axes_[0].k == 1 && axes_[1].d == 1 && axes_[2].d == 1) plan_columns();
  }

  // dy: [N*C, O0, O1, O2], x, dx: [N*C, D0, D1, D2]
  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const float* dy = in[0]->data<float>();
    const float* x = in[1]->data<float>();
    float* dx = out[0].data<float>();
    const PoolAxis &a0 = axes_[0], &a1 = axes_[1], &a2 = axes_[2];
    if (!columns_.empty()) return run_max_2d(dy, x, dx);
    const int64_t in_plane = a0.in * a1.in * a2.in, out_plane = a0.out * a1.out * a2.out;
    const int64_t taps = a0.k * a1.k * a2.k;
#pragma omp parallel for if (planes_ * out_plane * taps > 65536)
    for (int64_t p = 0; p < planes_; ++p) {
      const float* xp = x + p * in_plane;
      float* dxp = dx + p * in_plane;
      std::fill(dxp, dxp + in_plane, 0.0f);  // gradients scatter-add into the plane
      const float* dyp = dy + p * out_plane;
      for (int64_t o0 = 0; o0 < a0.out; ++o0)
        for (int64_t o1 = 0; o1 < a1.out; ++o1)
          for (int64_t o2 = 0; o2 < a2.out; ++o2) {
            const Window win{a0, a1, a2, o0, o1, o2};
            if (win.empty()) continue;
            const float g = dyp[(o0 * a1.out + o1) * a2.out + o2];
            if (max_) {
              dxp[argmax(win, xp)] += g;
            } else {
              const float share = g / static_cast<float>(divisor(win));
              win.for_each([&](int64_t i) { dxp[i] += share; });
            }
          }
    }
  }

 private:
  static constexpr int kLanes = 16;

  // The output columns of a 2-D max pool, cut (once, here) into runs of up to kLanes adjacent
  // windows lying wholly inside x, searched together, and single windows (cut by padding or ceil
  // mode, or every window when plane offsets do not fit the int32 lanes), searched alone.
  struct ColumnRun {
    int64_t first_out = 0, lanes = 1;  // lanes > 1: a run for search_lanes
    int64_t col_first = 0, col_last = 0;  // a single window's input columns [col_first, col_last)
  };
  void plan_columns() {
    const PoolAxis &r = axes_[1], &c = axes_[2];
    const bool lanes_fit = r.in * c.in < (int64_t{1} << 31);  // lane indices are int32
    for (int64_t o = 0; o < c.out; ++o) col_first_.push_back(c.start(o) + c.first(o, 0));
    const auto whole = [&](int64_t o) {
      return c.start(o) + c.last(o, c.in) - col_first_[static_cast<size_t>(o)] == c.k;
    };
    for (int64_t o = 0; o < c.out;) {
      int64_t lanes = 0;
      while (lanes_fit && lanes < kLanes && o + lanes < c.out && whole(o + lanes)) ++lanes;
      if (lanes > 1) {
        columns_.push_back({o, lanes});
        o += lanes;
      } else {
        columns_.push_back({o, 1, col_first_[static_cast<size_t>(o)], c.start(o) + c.last(o, c.in)});
        ++o;
      }
    }
  }

  // Max pooling over 2-D planes without dilation (every CNN here): the same windows, visiting order
  // and tie rule as the general loop above, with each window's bounds worked out once, at build
  // (the general loop took 85 ms of a 540 ms SqueezeNet step). Whole windows are searched in runs
  // of up to 16, one lane each, so that the compares vectorise (one window at a time this loop was
  // 13% of a SqueezeNet step).
  void run_max_2d(const float* dy, const float* x, float* dx) const {
    const PoolAxis &r = axes_[1], &c = axes_[2];
#pragma omp parallel for if (planes_ * r.out * c.out * r.k * c.k > 65536)
    for (int64_t p = 0; p < planes_; ++p) {
      const float* xp = x + p * r.in * c.in;
      float* dxp = dx + p * r.in * c.in;
      std::fill(dxp, dxp + r.in * c.in, 0.0f);  // gradients scatter-add into the plane
      const float* dyp = dy + p * r.out * c.out;
      for (int64_t o1 = 0; o1 < r.out; ++o1) {
        const int64_t row_first = r.start(o1) + r.first(o1, 0), row_last = r.start(o1) + r.last(o1, r.in);
        if (row_first >= row_last) continue;
        const float* dy_row = dyp + o1 * c.out;
        for (const ColumnRun& run : columns_) {
          if (run.lanes > 1) {
            search_lanes(xp, dxp, dy_row + run.first_out, row_first, row_last,
                         col_first_.data() + run.first_out, run.lanes, c.in, c.k);
            continue;
          }
          if (run.col_first >= run.col_last) continue;
          // Branch-free selection (conditional moves): after a ReLU half the taps tie at 0 and a
          // branch on each comparison mispredicts (this loop took 69 ms of the step with branches).
          int64_t best_i = row_first * c.in + run.col_first;
          float best = xp[best_i];
          for (int64_t i1 = row_first; i1 < row_last; ++i1)
            for (int64_t i = i1 * c.in + run.col_first; i < i1 * c.in + run.col_last; ++i) {
              const float v = xp[i];
              const bool take = (v > best) | (v != v);  // a NaN counts as the maximum
              best = take ? v : best;
              best_i = take ? i : best_i;
            }
          dxp[best_i] += dy_row[run.first_out];
        }
      }
    }
  }

  // `lanes` (<= 16) windows of one output row, each `k` columns wide starting at col_first[q], over
  // input rows [row_first, row_last): the same taps in the same order and the same selection as the
  // one-window loop, lane by lane; then each window's dy goes to its choice, in output order.
  static void search_lanes(const float* xp, float* dxp, const float* dy_row, int64_t row_first, int64_t row_last,
                           const int64_t* col_first, int64_t lanes, int64_t width, int64_t k) {
    int32_t col[kLanes], best_i[kLanes];
    float best[kLanes];
    // Spare lanes repeat lane 0 (searched, never scattered).
    for (int q = 0; q < kLanes; ++q) col[q] = static_cast<int32_t>(col_first[q < lanes ? q : 0]);
#pragma omp simd
    for (int q = 0; q < kLanes; ++q) {
      best_i[q] = static_cast<int32_t>(row_first * width) + col[q];
      best[q] = xp[best_i[q]];
    }
    for (int64_t i1 = row_first; i1 < row_last; ++i1)
      for (int64_t j = 0; j < k; ++j) {
        const int32_t base = static_cast<int32_t>(i1 * width + j);
#pragma omp simd
        for (int q = 0; q < kLanes; ++q) {
          const int32_t i = base + col[q];
          const float v = xp[i];
          const bool take = (v > best[q]) | (v != v);  // a NaN counts as the maximum
          best[q] = take ? v : best[q];
          best_i[q] = take ? i : best_i[q];
        }
      }
    for (int64_t q = 0; q < lanes; ++q) dxp[best_i[q]] += dy_row[q];
  }

  // The taps of one output position that lie inside x, as offsets into an [D0, D1, D2] plane.
  struct Window {
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

  static int64_t argmax(const Window& win, const float* xp) {
    int64_t best_i = -1;
    float best = 0;
    win.for_each([&](int64_t i) {
      const float v = xp[i];
      if (best_i < 0 || v > best || std::isnan(v)) best = v, best_i = i;
    });
    return best_i;
  }

  int64_t divisor(const Window& win) const {
    if (!include_pad_) return win.inside();
    int64_t n = 1;
    const int64_t o[kAxes] = {win.o0, win.o1, win.o2};
    for (size_t i = 0; i < kAxes; ++i) {
      const PoolAxis& a = axes_[i];
      n *= a.last(o[i], a.in + a.pad_end) - a.first(o[i], -a.pad_begin);
    }
    return n;
  }

  bool max_;
  std::vector<int64_t> col_first_;  // 2-D max pools: each output column's first input column
  std::vector<ColumnRun> columns_;  // 2-D max pools: the columns' search plan (plan_columns)
  bool include_pad_ = false;
  int64_t planes_ = 0;
  PoolAxis axes_[kAxes];
};

}  // namespace

FC_REGISTER_CPU_KERNEL("fc::MaxPoolGrad", [](const KernelSpec& s) { return std::make_unique<PoolGradKernel>(s, true); });
FC_REGISTER_CPU_KERNEL("fc::AveragePoolGrad",
                       [](const KernelSpec& s) { return std::make_unique<PoolGradKernel>(s, false); });

}  // namespace fc::runtime::cpu
