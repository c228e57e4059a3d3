// CPU kernels of the layer-wise adaptive optimizer updates (fc.LarsUpdate, fc.LambUpdate; their
// definitions are in ir/ops/optimizer_updates.cpp). Each needs two norms over the whole tensor
// before its elementwise step, so neither has a scalar form (no horizontal fusion): the norms are
// summed in double, the per-tensor factor is formed in double and rounded to float once, and the
// elementwise step runs in float. Outputs may share their inputs' buffers (w, momentum / m, v):
// every element is read before it is written.
#include <cmath>

#include "ir/hyperparams.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {

namespace {

double norm(const float* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += double(x[i]) * double(x[i]);
  return std::sqrt(s);
}

// ||w|| and ||u|| both non-zero: their ratio; else 1 (the usual guard: a zero-initialised or
// untouched tensor takes the plain step).
double ratio_or_one(double num, double den) { return num > 0 && den > 0 ? num / den : 1.0; }

// fc.LarsUpdate(w, grad, momentum_buffer, hyper) {exclude} -> (w', momentum_buffer')
void lars(const KernelSpec& spec, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const size_t n = in[0]->numel();
  const float* w = in[0]->data<float>();
  const float* g = in[1]->data<float>();
  const float* buf = in[2]->data<float>();
  const float* h = in[3]->data<float>();
  const bool exclude = spec.node.attr_int("exclude") != 0;
  const double lr = h[ir::kHyperLr], momentum = h[ir::kHyperMomentum];
  const double wd = exclude ? 0.0 : double(h[ir::kHyperWeightDecay]);
  double local = 1.0;
  if (!exclude) {
    const double wn = norm(w, n), gn = norm(g, n);
    local = ratio_or_one(h[ir::kHyperTrustCoefficient] * wn, gn + wd * wn);
  }
  const float scale = static_cast<float>(lr * local), m = static_cast<float>(momentum), decay = static_cast<float>(wd);
  float* w_next = out[0].data<float>();
  float* buf_next = out[1].data<float>();
  for (size_t i = 0; i < n; ++i) {
    const float d = std::fma(decay, w[i], g[i]);
    const float v = std::fma(scale, d, m * buf[i]);
    buf_next[i] = v;
    w_next[i] = w[i] - v;
  }
}

// fc.LambUpdate(w, grad, m, v, hyper) {exclude} -> (w', m', v')
void lamb(const KernelSpec& spec, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const size_t n = in[0]->numel();
  const float* w = in[0]->data<float>();
  const float* g = in[1]->data<float>();
  const float* m = in[2]->data<float>();
  const float* v = in[3]->data<float>();
  const float* h = in[4]->data<float>();
  const bool exclude = spec.node.attr_int("exclude") != 0;
  const float b1 = h[ir::kHyperBeta1], b2 = h[ir::kHyperBeta2], eps = h[ir::kHyperEps];
  const float one_b1 = h[ir::kHyperAdamOneMinusBeta1], one_b2 = h[ir::kHyperAdamOneMinusBeta2];
  const double t = double(h[ir::kHyperStep]) + 1.0;
  const float c1 = static_cast<float>(1.0 / (1.0 - std::pow(double(b1), t)));
  const float c2 = static_cast<float>(1.0 / (1.0 - std::pow(double(b2), t)));
  const float wd = exclude ? 0.0f : h[ir::kHyperWeightDecay];
  float* w_next = out[0].data<float>();
  float* m_next = out[1].data<float>();
  float* v_next = out[2].data<float>();
  // r = m_hat / (sqrt(v_hat) + eps) + wd * w, kept for the second pass.
  std::vector<float> r(n);
  for (size_t i = 0; i < n; ++i) {
    const float mi = std::fma(one_b1, g[i], b1 * m[i]);
    const float vi = std::fma(one_b2 * g[i], g[i], b2 * v[i]);
    m_next[i] = mi;
    v_next[i] = vi;
    r[i] = std::fma(wd, w[i], (mi * c1) / (std::sqrt(vi * c2) + eps));
  }
  const double trust = exclude ? 1.0 : ratio_or_one(norm(w, n), norm(r.data(), n));
  const float step = static_cast<float>(double(h[ir::kHyperLr]) * trust);
  for (size_t i = 0; i < n; ++i) w_next[i] = w[i] - step * r[i];
}

}  // namespace

FC_REGISTER_CPU_FN_OVERWRITING("fc::LarsUpdate", lars);
FC_REGISTER_CPU_FN_OVERWRITING("fc::LambUpdate", lamb);

}  // namespace fc::runtime::cpu
