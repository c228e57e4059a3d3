// CPU kernels for the pooling backward ops (ir/ops/pool.cpp):
//   fc.MaxPoolGrad(dy: [N, C, O..], x: [N, C, D..] [, argmax: i32 [N, C, O..]]) -> dx: [N, C, D..]
//     each window's dy goes to its first maximum in window order (PyTorch's tie rule; a NaN counts as
//     the maximum): the offset in x's plane that fc.MaxPoolTraining recorded in argmax, or, without
//     argmax, recomputed from x (pool_windows.h: the same search). (oneDNN's max pooling backward,
//     from a workspace its training forward records, measured no faster here once x, dy and dx are
//     reordered to and from its blocked layout, and it skips NaNs.)
//   fc.AveragePoolGrad(dy, x) -> dx: each window's dy / divisor goes to every tap inside x; the divisor
//     is the forward's: taps inside x (count_include_pad=0), or taps inside x plus its declared padding
//     (count_include_pad=1; the ceil-mode extension beyond the padding does not count).
// Planes (n, c) run in parallel; each plane's dx is written by one thread, in a fixed order, so
// results are deterministic.
#include <algorithm>

#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/pool_windows.h"

namespace fc::runtime::cpu {
namespace {

class MaxPoolGradKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit MaxPoolGradKernel(const KernelSpec& s)
      : search_(pool_geometry(s.node, s.inputs[1].sizes()), s.node), recorded_(s.inputs.size() > 2) {}

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const float* dy = in[0]->data<float>();
    const float* x = in[1]->data<float>();
    const int32_t* argmax = recorded_ ? in[2]->data<int32_t>() : nullptr;
    float* dx = out[0].data<float>();
    const PoolGeometry& g = search_.geometry();
    const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
    if (recorded_) {
#pragma omp parallel for if (g.planes * in_plane > 65536)
      for (int64_t p = 0; p < g.planes; ++p) {
        float* dxp = dx + p * in_plane;
        const float* dyp = dy + p * out_plane;
        const int32_t* ap = argmax + p * out_plane;
        std::fill(dxp, dxp + in_plane, 0.0f);  // gradients scatter-add into the plane
        for (int64_t o = 0; o < out_plane; ++o)  // -1: a window outside x (and no offset outside the plane)
          if (static_cast<uint32_t>(ap[o]) < static_cast<uint64_t>(in_plane)) dxp[ap[o]] += dyp[o];
      }
      return;
    }
    const int64_t block = search_.block();
#pragma omp parallel for if (g.planes * out_plane * g.taps() > 65536)
    for (int64_t p0 = 0; p0 < g.planes; p0 += block) {
      std::fill(dx + p0 * in_plane, dx + std::min(p0 + block, g.planes) * in_plane, 0.0f);
      search_.search(x, p0, [&](int64_t p, int64_t o, int64_t i) {
        if (i >= 0) dx[p * in_plane + i] += dy[p * out_plane + o];
      });
    }
  }

 private:
  MaxWindowSearch search_;
  bool recorded_;  // argmax given: scatter, no search
};

class AveragePoolGradKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit AveragePoolGradKernel(const KernelSpec& s)
      : g_(pool_geometry(s.node, s.inputs[1].sizes())), include_pad_(s.node.attr_int("count_include_pad") == 1) {}

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const float* dy = in[0]->data<float>();
    float* dx = out[0].data<float>();
    const PoolAxis &a0 = g_.axes[0], &a1 = g_.axes[1], &a2 = g_.axes[2];
    const int64_t in_plane = g_.in_plane(), out_plane = g_.out_plane();
#pragma omp parallel for if (g_.planes * out_plane * g_.taps() > 65536)
    for (int64_t p = 0; p < g_.planes; ++p) {
      float* dxp = dx + p * in_plane;
      std::fill(dxp, dxp + in_plane, 0.0f);  // gradients scatter-add into the plane
      const float* dyp = dy + p * out_plane;
      for (int64_t o0 = 0; o0 < a0.out; ++o0)
        for (int64_t o1 = 0; o1 < a1.out; ++o1)
          for (int64_t o2 = 0; o2 < a2.out; ++o2) {
            const PoolWindow win{a0, a1, a2, o0, o1, o2};
            if (win.empty()) continue;
            const float share = dyp[(o0 * a1.out + o1) * a2.out + o2] / static_cast<float>(divisor(win));
            win.for_each([&](int64_t i) { dxp[i] += share; });
          }
    }
  }

 private:
  int64_t divisor(const PoolWindow& win) const {
    if (!include_pad_) return win.inside();
    int64_t n = 1;
    const int64_t o[kPoolAxes] = {win.o0, win.o1, win.o2};
    for (size_t i = 0; i < kPoolAxes; ++i) {
      const PoolAxis& a = g_.axes[i];
      n *= a.last(o[i], a.in + a.pad_end) - a.first(o[i], -a.pad_begin);
    }
    return n;
  }

  PoolGeometry g_;
  bool include_pad_;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("fc::MaxPoolGrad", [](const KernelSpec& s) { return std::make_unique<MaxPoolGradKernel>(s); });
FC_REGISTER_CPU_KERNEL("fc::AveragePoolGrad",
                       [](const KernelSpec& s) { return std::make_unique<AveragePoolGradKernel>(s); });

}  // namespace fc::runtime::cpu
