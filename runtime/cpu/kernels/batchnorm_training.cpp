// CPU kernels for fc.BatchNormTraining and its gradient. x: [N, C, S] (S = product of spatial dims).
// Per-channel sums are accumulated in double, one channel per thread.
#include <cmath>

#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

struct Layout {
  int64_t n, c, s;
};

Layout layout_of(const Tensor& x) {
  Layout l{x.dim(0), x.dim(1), 1};
  for (size_t i = 2; i < x.rank(); ++i) l.s *= x.dim(i);
  return l;
}

void bn_forward(const KernelSpec& spec, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Layout l = layout_of(*in[0]);
  const float* x = in[0]->data<float>();
  const float* scale = in[1]->data<float>();
  const float* bias = in[2]->data<float>();
  const float* rmean = in[3]->data<float>();
  const float* rvar = in[4]->data<float>();
  float* y = out[0].data<float>();
  float *rmean2 = out[1].data<float>(), *rvar2 = out[2].data<float>();
  float *saved_mean = out[3].data<float>(), *saved_invstd = out[4].data<float>();
  const double eps = spec.node.attr_float("epsilon"), m = spec.node.attr_float("momentum");
  const int64_t count = l.n * l.s;
#pragma omp parallel for if (l.c > 1 && count * l.c > 32768)
  for (int64_t c = 0; c < l.c; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < l.n; ++i) {
      const float* p = x + (i * l.c + c) * l.s;
      for (int64_t k = 0; k < l.s; ++k) sum += p[k];
    }
    const double mean = count ? sum / double(count) : 0.0;
    double sq = 0;
    for (int64_t i = 0; i < l.n; ++i) {
      const float* p = x + (i * l.c + c) * l.s;
      for (int64_t k = 0; k < l.s; ++k) sq += (p[k] - mean) * (p[k] - mean);
    }
    const double var = count ? sq / double(count) : 0.0;
    const double unbiased = count > 1 ? sq / double(count - 1) : var;
    const double invstd = 1.0 / std::sqrt(var + eps);
    saved_mean[c] = static_cast<float>(mean);
    saved_invstd[c] = static_cast<float>(invstd);
    rmean2[c] = static_cast<float>((1.0 - m) * rmean[c] + m * mean);
    rvar2[c] = static_cast<float>((1.0 - m) * rvar[c] + m * unbiased);
    const float a = static_cast<float>(scale[c] * invstd);
    const float b = static_cast<float>(bias[c] - mean * scale[c] * invstd);
    for (int64_t i = 0; i < l.n; ++i) {
      const float* p = x + (i * l.c + c) * l.s;
      float* q = y + (i * l.c + c) * l.s;
      for (int64_t k = 0; k < l.s; ++k) q[k] = p[k] * a + b;
    }
  }
}

// dB = sum(dy), dscale = sum(dy * xhat), dx = scale * invstd * (dy - dB/M - xhat * dscale/M)
void bn_backward(const KernelSpec&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Layout l = layout_of(*in[1]);
  const float* dy = in[0]->data<float>();
  const float* x = in[1]->data<float>();
  const float* scale = in[2]->data<float>();
  const float* mean = in[3]->data<float>();
  const float* invstd = in[4]->data<float>();
  float *dx = out[0].data<float>(), *dscale = out[1].data<float>(), *dbias = out[2].data<float>();
  const double count = double(l.n * l.s);
#pragma omp parallel for if (l.c > 1 && l.n * l.s * l.c > 32768)
  for (int64_t c = 0; c < l.c; ++c) {
    double sdy = 0, sdyx = 0;
    const double mu = mean[c], is = invstd[c];
    for (int64_t i = 0; i < l.n; ++i) {
      const float* g = dy + (i * l.c + c) * l.s;
      const float* p = x + (i * l.c + c) * l.s;
      for (int64_t k = 0; k < l.s; ++k) {
        sdy += g[k];
        sdyx += g[k] * ((p[k] - mu) * is);
      }
    }
    dbias[c] = static_cast<float>(sdy);
    dscale[c] = static_cast<float>(sdyx);
    const double k1 = scale[c] * is, mdy = count ? sdy / count : 0, mdyx = count ? sdyx / count : 0;
    for (int64_t i = 0; i < l.n; ++i) {
      const float* g = dy + (i * l.c + c) * l.s;
      const float* p = x + (i * l.c + c) * l.s;
      float* q = dx + (i * l.c + c) * l.s;
      for (int64_t k = 0; k < l.s; ++k) q[k] = static_cast<float>(k1 * (g[k] - mdy - (p[k] - mu) * is * mdyx));
    }
  }
}

}  // namespace

FC_REGISTER_CPU_FN("fc::BatchNormTraining", bn_forward);
FC_REGISTER_CPU_FN("fc::BatchNormTrainingGrad", bn_backward);

}  // namespace fc::runtime::cpu
