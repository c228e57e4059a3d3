// CPU kernel for LRN (ONNX semantics, see ir/ops/lrn.cpp).
//   x, y: [N, C, D1..Dk] plain, viewed as [N, C, S, 1] with S = D1*..*Dk.
// oneDNN's lrn_across_channels computes y = x / (k + alpha / size * sum)^beta over the channel
// window [c - (size-1)/2, c + (size-1)/2]; for odd sizes that is exactly ONNX's window, so oneDNN
// runs with k = bias. For even sizes ONNX's window is lopsided (one more channel after c) and oneDNN
// cannot express it: a direct loop computes it.
#include <cmath>

#include "ir/shape_util.h"
#include "runtime/cpu/dnnl_context.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

class LrnKernel : public Kernel {
 public:
  explicit LrnKernel(const KernelSpec& s) : node_(s.node) {
    const std::vector<int64_t> x = s.inputs[0].sizes();
    n_ = x[0];
    c_ = x[1];
    s_ = ir::product(x, 2);
    size_ = node_.attr_int("size");
    alpha_ = node_.attr_float("alpha");
    beta_ = node_.attr_float("beta");
    bias_ = node_.attr_float("bias");
    if (size_ % 2 == 0) return;
    dnnl_checked(node_, [&] {
      desc_ = plain_desc({n_, c_, s_, 1});
      dnnl::lrn_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::lrn_across_channels, desc_,
                                size_, alpha_, beta_, bias_);
      prim_ = dnnl::lrn_forward(dnnl::lrn_forward::primitive_desc(d, dnnl_engine()));
    });
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    if (size_ % 2 == 0) return run_loop(in[0]->data<float>(), out[0].data<float>());
    dnnl_checked(node_, [&] {
      execute(prim_, {{DNNL_ARG_SRC, wrap(*in[0], desc_)}, {DNNL_ARG_DST, wrap(out[0], desc_)}});
    });
  }

 private:
  // x, y: [N, C, S]
  void run_loop(const float* x, float* y) const {
    const int64_t before = (size_ - 1) / 2, after = size_ / 2;
    const float scale = alpha_ / static_cast<float>(size_);
#pragma omp parallel for collapse(2) if (n_ * c_ * s_ > 65536)
    for (int64_t n = 0; n < n_; ++n)
      for (int64_t c = 0; c < c_; ++c) {
        const int64_t lo = std::max<int64_t>(0, c - before), hi = std::min(c_ - 1, c + after);
        const float* xn = x + n * c_ * s_;
        float* yc = y + (n * c_ + c) * s_;
        for (int64_t i = 0; i < s_; ++i) {
          float sum = 0;
          for (int64_t j = lo; j <= hi; ++j) sum += xn[j * s_ + i] * xn[j * s_ + i];
          yc[i] = xn[c * s_ + i] / std::pow(bias_ + scale * sum, beta_);
        }
      }
  }

  const ir::Node& node_;
  int64_t n_ = 0, c_ = 0, s_ = 0, size_ = 1;
  float alpha_ = 0, beta_ = 0, bias_ = 0;
  dnnl::memory::desc desc_;
  dnnl::lrn_forward prim_;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("LRN", [](const KernelSpec& s) { return std::make_unique<LrnKernel>(s); });

}  // namespace fc::runtime::cpu
