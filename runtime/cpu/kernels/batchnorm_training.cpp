// CPU kernels for fc.BatchNormTraining and its gradient. x: [N, C, S] (S = product of spatial dims).
// Per-channel sums are accumulated in double, one channel per thread, in passes separated by the
// cross-rank reductions that synchronised BatchNorm needs (runtime/data_parallel.h): with `sync`
// and several ranks, the counts and sums are global, so every rank normalises with the statistics
// of the whole global batch.
#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/cpu/kernel_registry.h"
#include "runtime/data_parallel.h"

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

// Sums across ranks when the node asks for synchronised statistics and there are several ranks.
void reduce_if_synced(const KernelSpec& spec, std::vector<double>& v) {
  DataParallel* dp = data_parallel();
  if (spec.node.attr_int("sync") != 0 && dp && dp->size() > 1) dp->sum_doubles(v.data(), v.size());
}

// acc[c] = sum over (n, s) of f(c, x[n, c, s]); acc[C] = element count.
template <typename F>
std::vector<double> channel_sums(const Layout& l, const float* x, F f) {
  std::vector<double> acc(l.c + 1, 0.0);
  acc[l.c] = double(l.n * l.s);
#pragma omp parallel for if (l.c > 1 && l.n * l.s * l.c > 32768)
  for (int64_t c = 0; c < l.c; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < l.n; ++i) {
      const float* p = x + (i * l.c + c) * l.s;
      for (int64_t k = 0; k < l.s; ++k) sum += f(c, p[k]);
    }
    acc[c] = sum;
  }
  return acc;
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
  const bool relu = spec.node.attr_int("relu") != 0;  // a Relu folded in: the same max(y, 0) as relu.cpp

  std::vector<double> sums = channel_sums(l, x, [](int64_t, float v) { return double(v); });
  reduce_if_synced(spec, sums);
  const double count = sums[l.c];
  std::vector<double> mean(l.c);
  for (int64_t c = 0; c < l.c; ++c) mean[c] = count ? sums[c] / count : 0.0;
  // Two-pass variance: squared deviations from the (global) mean.
  std::vector<double> sq = channel_sums(l, x, [&](int64_t c, float v) { return (v - mean[c]) * (v - mean[c]); });
  sq[l.c] = 0;
  reduce_if_synced(spec, sq);

#pragma omp parallel for if (l.c > 1 && l.n * l.s * l.c > 32768)
  for (int64_t c = 0; c < l.c; ++c) {
    const double var = count ? sq[c] / count : 0.0;
    const double unbiased = count > 1 ? sq[c] / (count - 1) : var;
    const double invstd = 1.0 / std::sqrt(var + eps);
    saved_mean[c] = static_cast<float>(mean[c]);
    saved_invstd[c] = static_cast<float>(invstd);
    rmean2[c] = static_cast<float>((1.0 - m) * rmean[c] + m * mean[c]);
    rvar2[c] = static_cast<float>((1.0 - m) * rvar[c] + m * unbiased);
    const float a = static_cast<float>(scale[c] * invstd);
    const float b = static_cast<float>(bias[c] - mean[c] * scale[c] * invstd);
    for (int64_t i = 0; i < l.n; ++i) {
      const float* p = x + (i * l.c + c) * l.s;
      float* q = y + (i * l.c + c) * l.s;
      if (relu)
        for (int64_t k = 0; k < l.s; ++k) q[k] = std::max(p[k] * a + b, 0.0f);
      else
        for (int64_t k = 0; k < l.s; ++k) q[k] = p[k] * a + b;
    }
  }
}

// dB = sum(dy), dscale = sum(dy * xhat) over this rank's samples;
// dx = scale * invstd * (dy - sum(dy)/M - xhat * sum(dy * xhat)/M), sums and M over the global batch
// when synchronised.
void bn_backward(const KernelSpec& spec, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Layout l = layout_of(*in[1]);
  const float* dy = in[0]->data<float>();
  const float* x = in[1]->data<float>();
  const float* scale = in[2]->data<float>();
  const float* mean = in[3]->data<float>();
  const float* invstd = in[4]->data<float>();
  float *dx = out[0].data<float>(), *dscale = out[1].data<float>(), *dbias = out[2].data<float>();
  // sums[c] = sum dy, sums[C + c] = sum dy * xhat, sums[2C] = count
  std::vector<double> sums(2 * l.c + 1, 0.0);
  sums[2 * l.c] = double(l.n * l.s);
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
    sums[c] = sdy;
    sums[l.c + c] = sdyx;
  }
  // The parameter gradients stay this rank's own: the gradient allreduce sums them like every other
  // parameter gradient (as PyTorch's SyncBatchNorm under DDP). dx needs the global sums.
  for (int64_t c = 0; c < l.c; ++c) {
    dbias[c] = static_cast<float>(sums[c]);
    dscale[c] = static_cast<float>(sums[l.c + c]);
  }
  reduce_if_synced(spec, sums);
  const double count = sums[2 * l.c];
#pragma omp parallel for if (l.c > 1 && l.n * l.s * l.c > 32768)
  for (int64_t c = 0; c < l.c; ++c) {
    const double sdy = sums[c], sdyx = sums[l.c + c], mu = mean[c], is = invstd[c];
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

FC_REGISTER_CPU_FN_OVERWRITING("fc::BatchNormTraining", bn_forward);
FC_REGISTER_CPU_FN_OVERWRITING("fc::BatchNormTrainingGrad", bn_backward);

}  // namespace fc::runtime::cpu
