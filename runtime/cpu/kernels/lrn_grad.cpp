// CPU kernel for fc.LRNGrad (formula in ir/ops/lrn.cpp), any window size, ONNX's window
// [c - floor((size-1)/2), c + ceil((size-1)/2)].
//   dy, x, dx: [N, C, D1..Dk] plain, viewed as [N, C, S] with S = D1*..*Dk.
// Work is split into (n, block of S) tiles so that the per-tile scratch (s^-beta and the terms
// dy*x*s^(-beta-1), [C, block] each) stays in cache; the innermost loops run along S, contiguous.
// A direct loop rather than oneDNN's lrn_backward: that needs the forward's workspace (the forward
// kernel is inference-only) and covers odd sizes only.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

constexpr int64_t kBlock = 256;  // spatial positions per tile

class LrnGradKernel : public Kernel {
 public:
  explicit LrnGradKernel(const KernelSpec& s) {
    const std::vector<int64_t> x = s.inputs[1].sizes();
    n_ = x[0];
    c_ = x[1];
    s_ = ir::product(x, 2);
    const ir::Node& node = s.node;
    size_ = node.attr_int("size");
    alpha_ = node.attr_float("alpha");
    beta_ = node.attr_float("beta");
    bias_ = node.attr_float("bias");
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const float* dy = in[0]->data<float>();
    const float* x = in[1]->data<float>();
    float* dx = out[0].data<float>();
    // beta = 0.75 (AlexNet, GoogLeNet) as square roots, which vectorise where pow does not.
    if (beta_ == 0.75f) {
      run_tiles(dy, x, dx, [](float v) {
        const float r = std::sqrt(v);
        return 1.0f / (r * std::sqrt(r));
      });
    } else {
      run_tiles(dy, x, dx, [b = beta_](float v) { return std::pow(v, -b); });
    }
  }

 private:
  template <typename InvPow>
  void run_tiles(const float* dy, const float* x, float* dx, InvPow inv_pow) const {
    const int64_t blocks = (s_ + kBlock - 1) / kBlock;
#pragma omp parallel for collapse(2) if (n_ * c_ * s_ > 16384)
    for (int64_t n = 0; n < n_; ++n)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t off = n * c_ * s_ + blk * kBlock;
        tile(dy + off, x + off, dx + off, std::min(kBlock, s_ - blk * kBlock), inv_pow);
      }
  }

  // One tile: channel c's values at x[c * s_ + l], l < len. inv_pow(v) = v^-beta.
  template <typename InvPow>
  void tile(const float* dy, const float* x, float* dx, int64_t len, InvPow inv_pow) const {
    const int64_t before = (size_ - 1) / 2, after = size_ / 2;
    const float scale = alpha_ / static_cast<float>(size_);
    std::vector<float> p(c_ * len), t(c_ * len);  // p = s^-beta, t = dy * x * s^(-beta-1)
    for (int64_t c = 0; c < c_; ++c) {
      float* pc = p.data() + c * len;
      std::fill_n(pc, len, 0.0f);
      for (int64_t j = std::max<int64_t>(0, c - before); j <= std::min(c_ - 1, c + after); ++j) {
        const float* xj = x + j * s_;
#pragma omp simd
        for (int64_t l = 0; l < len; ++l) pc[l] += xj[l] * xj[l];
      }
      const float* xc = x + c * s_;
      const float* dyc = dy + c * s_;
      float* tc = t.data() + c * len;
#pragma omp simd
      for (int64_t l = 0; l < len; ++l) {
        const float sum = bias_ + scale * pc[l];
        pc[l] = inv_pow(sum);
        tc[l] = dyc[l] * xc[l] * pc[l] / sum;
      }
    }
    const float coef = 2.0f * scale * beta_;
    for (int64_t i = 0; i < c_; ++i) {
      const float* xi = x + i * s_;
      const float* dyi = dy + i * s_;
      const float* pi = p.data() + i * len;
      float* dxi = dx + i * s_;
#pragma omp simd
      for (int64_t l = 0; l < len; ++l) dxi[l] = dyi[l] * pi[l];
      // Channels c whose window [c - before, c + after] holds i.
      for (int64_t c = std::max<int64_t>(0, i - after); c <= std::min(c_ - 1, i + before); ++c) {
        const float* tc = t.data() + c * len;
#pragma omp simd
        for (int64_t l = 0; l < len; ++l) dxi[l] -= coef * xi[l] * tc[l];
      }
    }
  }

  int64_t n_ = 0, c_ = 0, s_ = 0, size_ = 1;
  float alpha_ = 0, beta_ = 0, bias_ = 0;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("fc::LRNGrad", [](const KernelSpec& s) { return std::make_unique<LrnGradKernel>(s); });

}  // namespace fc::runtime::cpu
