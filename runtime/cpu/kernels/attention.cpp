// CPU kernels for fc.Attention and fc.AttentionGrad (ir/ops/attention.cpp), after FlashAttention-2
// (Dao 2023) on a CPU: q [B, T, D], kt [B, D, S], v [B, S, E] (B = the batch axes flattened), the
// scores cut into tiles of kTile x kTile; no [T, S] matrix is kept, only one tile per thread.
//
// Forward, per (batch entry, query tile), over key tiles: s = scale * q_i kt_j + bias (oneDNN sgemm),
// the online softmax (running row max m and sum l; y_i rescaled by exp(m_old - m_new) as m grows),
// y_i += exp(s - m) v_j; at the end y_i /= l and lse = m + log(l).
// Backward, per batch entry (dkt and dv gather over query tiles): D = rowsum(dy * y); per tile
// p = exp(s - lse), dv_j += p^T dy_i, dp = dy_i v_j^T, ds = scale * p * (dp - D),
// dq_i += ds kt_j^T, dkt_j += q_i^T ds.
// The mask becomes a bias plane [T, S] per distinct mask batch entry (0 / -inf for a bool mask, the
// values of an f32 mask), and each tile of a plane is classified once per call: a tile whose bias is
// -inf everywhere (above a causal mask's diagonal) is skipped in both directions. Each work item's
// arithmetic is independent of the thread count, so results are too.
// A row whose every score is excluded gives y = NaN (0 / 0, as the unfused Softmax) and no gradient.
#include <dnnl.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "ir/float_math.h"
#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

constexpr int64_t kTile = 64;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// exp(x) for the scores less their row max or log-sum-exp (x <= 0, up to rounding): Cephes' single-
// precision algorithm with ir/float_math.h's coefficients (at most 1 ulp), its range reduction
// specialised here because a call to libm's expf keeps these loops scalar and they hold most of the
// kernels' non-product work. x < -87.3 (a result below FLT_MIN; -inf for an excluded score) gives 0; NaN
// stays NaN.
inline float exp_nonpositive(float x) {
  const float xc = std::max(x, -87.3f);
  // Round to nearest by the 1.5 * 2^23 trick (|x / ln 2| < 2^22): rint() would not vectorise here.
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = std::fma(n, -0.693359375f, xc);  // ln 2 = 0.693359375 - 2.12194440e-4
  r = std::fma(n, 2.12194440e-4f, r);
  const float p = ir::float_math::horner(r, ir::float_math::kExpP);
  const float y = std::fma(p * r, r, r) + 1.0f;  // 1 + r + r^2 P(r)
  const float two_n = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);  // n in [-126, 1]
  return x < -87.3f ? 0.0f : y * two_n;
}

// Row-major C = alpha * op(A) op(B) + beta * C; false when oneDNN refuses (checked after the
// parallel loop: nothing may throw inside it).
bool gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
  return dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == dnnl_success;
}

// The problem's sizes and the mask as bias planes with their tiles classified.
struct Problem {
  int64_t batch = 1, t = 0, s = 0, d = 0, e = 0;
  float scale = 1;
  std::vector<float> bias;          // [planes, t, s]; empty without a mask
  std::vector<int64_t> plane_of;    // batch entry -> its bias plane
  std::vector<uint8_t> skip;        // [planes, tiles of t, tiles of s]: 1 = every bias is -inf
  int64_t tiles_t = 0, tiles_s = 0;

  const float* plane(int64_t b) const { return bias.empty() ? nullptr : bias.data() + plane_of[b] * t * s; }
  bool skipped(int64_t b, int64_t i, int64_t j) const {
    return !skip.empty() && skip[(plane_of[b] * tiles_t + i) * tiles_s + j];
  }
};

Problem make_problem(const KernelSpec& spec, const Tensor& q, const Tensor& kt, const Tensor& v, const Tensor& scale,
                     const Tensor* mask) {
  Problem p;
  const std::vector<int64_t>& qd = q.dims();
  const int64_t r = static_cast<int64_t>(qd.size());
  p.t = qd[r - 2];
  p.d = qd[r - 1];
  p.s = kt.dims()[r - 1];
  p.e = v.dims()[r - 1];
  p.batch = ir::product(qd, 0, r - 2);
  p.scale = scale.data<float>()[0];
  p.tiles_t = (p.t + kTile - 1) / kTile;
  p.tiles_s = (p.s + kTile - 1) / kTile;
  if (!mask) return p;
  // The mask's dims left-padded to rank r; a batch entry's plane counts only the mask's own batch axes.
  std::vector<int64_t> md(r - mask->dims().size(), 1);
  md.insert(md.end(), mask->dims().begin(), mask->dims().end());
  const int64_t planes = ir::product(md, 0, r - 2);
  p.plane_of.assign(p.batch, 0);
  for (int64_t b = 0; b < p.batch; ++b) {
    int64_t rest = b, plane = 0, stride = 1;
    for (int64_t a = r - 3; a >= 0; --a) {
      const int64_t coord = rest % qd[a];
      rest /= qd[a];
      if (md[a] != 1) plane += coord * stride;
      stride *= md[a];
    }
    p.plane_of[b] = plane;
  }
  const int64_t mt = md[r - 2], ms = md[r - 1];
  const bool keep = spec.node.attr_int("mask_keep") != 0;
  p.bias.resize(planes * p.t * p.s);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t i = 0; i < p.t; ++i)
      for (int64_t j = 0; j < p.s; ++j) {
        const int64_t at = (pl * mt + (mt == 1 ? 0 : i)) * ms + (ms == 1 ? 0 : j);
        float& out = p.bias[(pl * p.t + i) * p.s + j];
        if (mask->dtype() == ir::DType::Bool)
          out = mask->data<bool>()[at] == keep ? 0.0f : kNegInf;
        else
          out = mask->data<float>()[at];
      }
  p.skip.assign(planes * p.tiles_t * p.tiles_s, 1);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t i = 0; i < p.t; ++i)
      for (int64_t j = 0; j < p.s; ++j)
        if (p.bias[(pl * p.t + i) * p.s + j] != kNegInf)
          p.skip[(pl * p.tiles_t + i / kTile) * p.tiles_s + j / kTile] = 0;
  return p;
}

// scores [rows, cols] (leading dimension kTile) = scale * q_i kt_j + bias tile.
bool tile_scores(const Problem& p, const float* q, const float* kt, const float* bias, int64_t i0, int64_t j0,
                 int64_t rows, int64_t cols, float* scores) {
  if (!gemm(false, false, rows, cols, p.d, p.scale, q + i0 * p.d, p.d, kt + j0, p.s, 0.0f, scores, kTile))
    return false;
  if (bias)
    for (int64_t r = 0; r < rows; ++r) {
      const float* br = bias + (i0 + r) * p.s + j0;
      float* sr = scores + r * kTile;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) sr[c] += br[c];
    }
  return true;
}

// inputs: q, kt, v, scale, mask?; outputs: y, lse.
void attention(const KernelSpec& spec, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Problem p = make_problem(spec, *in[0], *in[1], *in[2], *in[3], in.size() > 4 ? in[4] : nullptr);
  const float* q = in[0]->data<float>();
  const float* kt = in[1]->data<float>();
  const float* v = in[2]->data<float>();
  float* y = out[0].data<float>();
  float* lse = out[1].data<float>();
  std::atomic<bool> ok{true};
  const int64_t items = p.batch * p.tiles_t;
#pragma omp parallel for schedule(dynamic) num_threads(std::max(1, spec.threads)) if (items > 1 && spec.threads > 1)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t b = item / p.tiles_t, i0 = (item % p.tiles_t) * kTile, rows = std::min(kTile, p.t - i0);
    const float* qb = q + b * p.t * p.d;
    const float* ktb = kt + b * p.d * p.s;
    const float* vb = v + b * p.s * p.e;
    float* yi = y + (b * p.t + i0) * p.e;  // [rows, e]: the running (unnormalised) output
    std::vector<float> scores(kTile * kTile), m(rows, kNegInf), l(rows, 0.0f);
    std::fill(yi, yi + rows * p.e, 0.0f);
    for (int64_t jt = 0; jt < p.tiles_s; ++jt) {
      if (p.skipped(b, i0 / kTile, jt)) continue;
      const int64_t j0 = jt * kTile, cols = std::min(kTile, p.s - j0);
      if (!tile_scores(p, qb, ktb, p.plane(b), i0, j0, rows, cols, scores.data())) {
        ok = false;
        continue;
      }
      for (int64_t r = 0; r < rows; ++r) {
        float* sr = scores.data() + r * kTile;
        float mx = m[r];
#pragma omp simd reduction(max : mx)
        for (int64_t c = 0; c < cols; ++c) mx = std::max(mx, sr[c]);
        if (mx == kNegInf) {  // nothing of this row seen yet: its probabilities here are all 0
          std::fill(sr, sr + cols, 0.0f);
          continue;
        }
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t c = 0; c < cols; ++c) {
          sr[c] = exp_nonpositive(sr[c] - mx);
          sum += sr[c];
        }
        const float alpha = std::exp(m[r] - mx);
        if (alpha != 1.0f) {
          float* yr = yi + r * p.e;
#pragma omp simd
          for (int64_t c = 0; c < p.e; ++c) yr[c] *= alpha;
        }
        l[r] = l[r] * alpha + sum;
        m[r] = mx;
      }
      if (!gemm(false, false, rows, p.e, cols, 1.0f, scores.data(), kTile, vb + j0 * p.e, p.e, 1.0f, yi, p.e))
        ok = false;
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float inv = 1.0f / l[r];  // inf for a row with every score excluded: y = 0 * inf = NaN
      float* yr = yi + r * p.e;
#pragma omp simd
      for (int64_t c = 0; c < p.e; ++c) yr[c] *= inv;
      lse[b * p.t + i0 + r] = m[r] + std::log(l[r]);
    }
  }
  FC_CHECK(ok, spec.node.describe(), ": oneDNN sgemm failed");
}

// inputs: dy, q, kt, v, scale, y, lse, mask?; outputs: dq, dkt, dv (zeroed on entry).
void attention_grad(const KernelSpec& spec, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Problem p = make_problem(spec, *in[1], *in[2], *in[3], *in[4], in.size() > 7 ? in[7] : nullptr);
  const float* dy = in[0]->data<float>();
  const float* q = in[1]->data<float>();
  const float* kt = in[2]->data<float>();
  const float* v = in[3]->data<float>();
  const float* y = in[5]->data<float>();
  const float* lse = in[6]->data<float>();
  float* dq = out[0].data<float>();
  float* dkt = out[1].data<float>();
  float* dv = out[2].data<float>();
  std::atomic<bool> ok{true};
#pragma omp parallel for schedule(dynamic) num_threads(std::max(1, spec.threads)) if (p.batch > 1 && spec.threads > 1)
  for (int64_t b = 0; b < p.batch; ++b) {
    const float* qb = q + b * p.t * p.d;
    const float* ktb = kt + b * p.d * p.s;
    const float* vb = v + b * p.s * p.e;
    const float* dyb = dy + b * p.t * p.e;
    const float* lb = lse + b * p.t;
    float* dqb = dq + b * p.t * p.d;
    float* dktb = dkt + b * p.d * p.s;
    float* dvb = dv + b * p.s * p.e;
    std::vector<float> prob(kTile * kTile), dprob(kTile * kTile), dsum(p.t);
    for (int64_t r = 0; r < p.t; ++r) {  // D = rowsum(dy * y)
      const float* a = dyb + r * p.e;
      const float* c = y + (b * p.t + r) * p.e;
      float acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t k = 0; k < p.e; ++k) acc += a[k] * c[k];
      dsum[r] = acc;
    }
    for (int64_t it = 0; it < p.tiles_t; ++it) {
      const int64_t i0 = it * kTile, rows = std::min(kTile, p.t - i0);
      for (int64_t jt = 0; jt < p.tiles_s; ++jt) {
        if (p.skipped(b, it, jt)) continue;
        const int64_t j0 = jt * kTile, cols = std::min(kTile, p.s - j0);
        bool good = tile_scores(p, qb, ktb, p.plane(b), i0, j0, rows, cols, prob.data());
        for (int64_t r = 0; r < rows; ++r) {
          float* pr = prob.data() + r * kTile;
          const float l = lb[i0 + r];
          if (l == kNegInf) {  // every score of the row excluded
            std::fill(pr, pr + cols, 0.0f);
            continue;
          }
#pragma omp simd
          for (int64_t c = 0; c < cols; ++c) pr[c] = exp_nonpositive(pr[c] - l);
        }
        // dv_j += p^T dy_i; dp = dy_i v_j^T
        good = good && gemm(true, false, cols, p.e, rows, 1.0f, prob.data(), kTile, dyb + i0 * p.e, p.e, 1.0f,
                            dvb + j0 * p.e, p.e);
        good = good && gemm(false, true, rows, cols, p.e, 1.0f, dyb + i0 * p.e, p.e, vb + j0 * p.e, p.e, 0.0f,
                            dprob.data(), kTile);
        for (int64_t r = 0; r < rows; ++r) {  // ds = p * (dp - D), the scale applied by the products below
          const float* pr = prob.data() + r * kTile;
          float* dr = dprob.data() + r * kTile;
          const float dr_sum = dsum[i0 + r];
#pragma omp simd
          for (int64_t c = 0; c < cols; ++c) dr[c] = pr[c] * (dr[c] - dr_sum);
        }
        // dq_i += scale * ds kt_j^T; dkt_j += scale * q_i^T ds
        good = good && gemm(false, true, rows, p.d, cols, p.scale, dprob.data(), kTile, ktb + j0, p.s, 1.0f,
                            dqb + i0 * p.d, p.d);
        good = good && gemm(true, false, p.d, cols, rows, p.scale, qb + i0 * p.d, p.d, dprob.data(), kTile, 1.0f,
                            dktb + j0, p.s);
        if (!good) ok = false;
      }
    }
  }
  FC_CHECK(ok, spec.node.describe(), ": oneDNN sgemm failed");
}

}  // namespace

FC_REGISTER_CPU_FN_OVERWRITING("fc::Attention", attention);
FC_REGISTER_CPU_FN("fc::AttentionGrad", attention_grad);

}  // namespace fc::runtime::cpu
