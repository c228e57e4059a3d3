// CPU kernels for the optimizer update ops (see ir/ops/optimizer_updates.cpp for the math).
// Scalars are combined in double and rounded to float where PyTorch does, and the per-element
// operations follow PyTorch's order (add with alpha is a fused multiply-add in ATen's vectorised
// CPU kernels), so a step matches torch.optim to float rounding.
#include <cmath>
#include <cstring>

#include "ir/hyperparams.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

using ir::HyperIndex;

void sgd(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const float* w = in[0]->data<float>();
  const float* g = in[1]->data<float>();
  const float* h = in[2]->data<float>();
  const float* buf = in.size() > 3 && in[3] ? in[3]->data<float>() : nullptr;
  const float lr = h[ir::kHyperLr], momentum = h[ir::kHyperMomentum], wd = h[ir::kHyperWeightDecay];
  const float keep = 1.0f - h[ir::kHyperDampening];
  const bool first = h[ir::kHyperStep] == 0.0f, nesterov = s.node.attr_int("nesterov") != 0;
  const bool use_momentum = buf && momentum != 0.0f && out.size() > 1;
  float* w2 = out[0].data<float>();
  float* buf2 = use_momentum ? out[1].data<float>() : nullptr;
  if (!use_momentum && out.size() > 1 && !out[1].same_storage(*in[3]))  // the buffer passes through
    std::memcpy(out[1].raw(), in[3]->raw(), in[3]->nbytes());
  const int64_t n = static_cast<int64_t>(out[0].numel());
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    float d = wd != 0.0f ? std::fma(wd, w[i], g[i]) : g[i];
    if (use_momentum) {
      float b = first ? d : std::fma(keep, d, buf[i] * momentum);
      buf2[i] = b;
      d = nesterov ? std::fma(momentum, b, d) : b;
    }
    w2[i] = std::fma(-lr, d, w[i]);
  }
}

void adamw(const KernelSpec&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const float* w = in[0]->data<float>();
  const float* g = in[1]->data<float>();
  const float* m = in[2]->data<float>();
  const float* v = in[3]->data<float>();
  const float* h = in[4]->data<float>();
  const double lr = h[ir::kHyperLr], wd = h[ir::kHyperWeightDecay], b1 = h[ir::kHyperBeta1], b2 = h[ir::kHyperBeta2];
  const float eps = h[ir::kHyperEps];
  const double t = double(h[ir::kHyperStep]) + 1.0;
  const float decay = static_cast<float>(1.0 - lr * wd);
  const float c1 = static_cast<float>(1.0 - b1), c2 = static_cast<float>(1.0 - b2);
  const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
  const float step_size = static_cast<float>(lr / (1.0 - std::pow(b1, t)));
  const float bc2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(b2, t)));
  float* w2 = out[0].data<float>();
  float* m2 = out[1].data<float>();
  float* v2 = out[2].data<float>();
  const int64_t n = static_cast<int64_t>(out[0].numel());
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float wi = w[i] * decay;
    const float mi = std::fma(c1, g[i], m[i] * fb1);
    const float vi = v[i] * fb2 + (c2 * g[i]) * g[i];  // addcmul: self + value * t1 * t2
    const float denom = std::sqrt(vi) / bc2_sqrt + eps;
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = wi - step_size * (mi / denom);
  }
}

}  // namespace

FC_REGISTER_CPU_FN_OVERWRITING("fc::SGDUpdate", sgd);
FC_REGISTER_CPU_FN_OVERWRITING("fc::AdamWUpdate", adamw);

}  // namespace fc::runtime::cpu
