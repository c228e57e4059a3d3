// CPU kernel for fc.MaxPoolTraining(x: [N, C, D..]) -> y: [N, C, O..], argmax: i32 [N, C, O..]
// (ir/ops/pool.cpp): MaxPool that also records, for fc.MaxPoolGrad, the offset in x's (n, c) plane
// of each window's first maximum (pool_windows.h: PyTorch's tie rule, a NaN counts as the maximum).
// y is x at that offset, so it is bit for bit what MaxPool gives. Recording costs the forward the
// search the backward no longer repeats (in a SqueezeNet step MaxPoolGrad's search was ~10%).
#include <limits>

#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/pool_windows.h"

namespace fc::runtime::cpu {
namespace {

class MaxPoolTrainingKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit MaxPoolTrainingKernel(const KernelSpec& s) : g_(pool_geometry(s.node, s.inputs[0].sizes())), search_(g_) {}

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const float* x = in[0]->data<float>();
    float* y = out[0].data<float>();
    int32_t* argmax = out[1].data<int32_t>();
    const int64_t in_plane = g_.in_plane(), out_plane = g_.out_plane(), block = search_.block();
#pragma omp parallel for if (g_.planes * out_plane * g_.taps() > 65536)
    for (int64_t p0 = 0; p0 < g_.planes; p0 += block)
      search_.search(x, p0, [&](int64_t p, int64_t o, int64_t i) {
        y[p * out_plane + o] = i >= 0 ? x[p * in_plane + i] : -std::numeric_limits<float>::infinity();  // -1: outside x
        argmax[p * out_plane + o] = static_cast<int32_t>(i);
      });
  }

 private:
  PoolGeometry g_;
  MaxWindowSearch search_;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("fc::MaxPoolTraining",
                       [](const KernelSpec& s) { return std::make_unique<MaxPoolTrainingKernel>(s); });

}  // namespace fc::runtime::cpu
