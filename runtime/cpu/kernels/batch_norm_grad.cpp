// CPU kernel for fc.BatchNormInferenceGrad (formulas in ir/ops/batch_norm.cpp).
//   dy, x, dx: [N, C, D1..Dk] plain, viewed as [N, C, S]; scale, mean, var and the other outputs: [C].
// Two passes: per-channel sums of dy and dy * (x - mean) (one thread per channel, summed in a fixed
// order, so results do not depend on the thread count), then dx elementwise.
#include <cmath>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

class BatchNormInferenceGradKernel : public Kernel {
 public:
  explicit BatchNormInferenceGradKernel(const KernelSpec& s) : eps_(s.node.attr_float("epsilon")) {
    const std::vector<int64_t> x = s.inputs[1].sizes();
    n_ = x[0];
    c_ = x[1];
    s_ = ir::product(x, 2);
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const float* dy = in[0]->data<float>();
    const float* x = in[1]->data<float>();
    const float* scale = in[2]->data<float>();
    const float* mean = in[3]->data<float>();
    const float* var = in[4]->data<float>();
    float* dx = out[0].data<float>();
    float* dscale = out[1].data<float>();
    float* dbias = out[2].data<float>();
    float* dmean = out[3].data<float>();
    float* dvar = out[4].data<float>();
#pragma omp parallel for if (n_ * c_ * s_ > 65536)
    for (int64_t c = 0; c < c_; ++c) {
      const float invstd = 1.0f / std::sqrt(var[c] + eps_);
      double sum_dy = 0, sum_dy_xc = 0;  // double: these sum N * S terms
      for (int64_t n = 0; n < n_; ++n) {
        const float* dyp = dy + (n * c_ + c) * s_;
        const float* xp = x + (n * c_ + c) * s_;
        float a = 0, b = 0;
        for (int64_t i = 0; i < s_; ++i) {
          a += dyp[i];
          b += dyp[i] * (xp[i] - mean[c]);
        }
        sum_dy += a;
        sum_dy_xc += b;
      }
      dbias[c] = static_cast<float>(sum_dy);
      dscale[c] = static_cast<float>(sum_dy_xc * invstd);
      dmean[c] = static_cast<float>(-scale[c] * invstd * sum_dy);
      dvar[c] = static_cast<float>(-0.5 * scale[c] * invstd * invstd * invstd * sum_dy_xc);
    }
#pragma omp parallel for collapse(2) if (n_ * c_ * s_ > 65536)
    for (int64_t n = 0; n < n_; ++n)
      for (int64_t c = 0; c < c_; ++c) {
        const float k = scale[c] / std::sqrt(var[c] + eps_);
        const float* dyp = dy + (n * c_ + c) * s_;
        float* dxp = dx + (n * c_ + c) * s_;
        for (int64_t i = 0; i < s_; ++i) dxp[i] = dyp[i] * k;
      }
  }

 private:
  float eps_;
  int64_t n_ = 0, c_ = 0, s_ = 0;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("fc::BatchNormInferenceGrad",
                       [](const KernelSpec& s) { return std::make_unique<BatchNormInferenceGradKernel>(s); });

}  // namespace fc::runtime::cpu
