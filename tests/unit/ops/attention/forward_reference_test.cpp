// fc.Attention against a naive float64 softmax(scale * q kt + bias) v and its row log-sum-exp,
// written here from ir/ops/attention.cpp's definition: q [*, T, D], kt [*, D, S], v [*, S, E],
// scale f32[], mask broadcast to [*, T, S] (bool: excluded where mask == !mask_keep; f32: added).
// Sizes above the kernel's 64-wide tiles, so its online softmax rescales across tiles and a causal
// mask makes it skip whole tiles.
// Tolerance, per row, from worst-case float bounds: a score is a D-term dot product, off by at most
// es = (D + 2) u scale sum_d |q_d kt_d| (u = 2^-24); each probability is then off by a relative
// 2 es + (S + 8) u (the exponent's error, the S-term sum of exponentials, exp's own ulp), so y by that
// times sum_s p_s |v_s| plus its own S-term sum; lse = max + log(sum) by es + (S + 8) u (1 + |lse|).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

using Dims = std::vector<int64_t>;
constexpr double kU = 0x1p-24;

// The bias of score (batch b, t, s) from the mask (or 0), broadcast as numpy does.
double bias_of(const Tensor* mask, int64_t keep, const Dims& idx) {
  if (!mask) return 0;
  const int64_t at = broadcast_index(idx, mask->dims());
  if (mask->dtype() == ir::DType::Bool)
    return mask->data<bool>()[at] == (keep != 0) ? 0.0 : -std::numeric_limits<double>::infinity();
  return mask->data<float>()[at];
}

void check_attention(const Dims& batch, int64_t t, int64_t s, int64_t d, int64_t e, float scale, const Tensor* mask,
                     int64_t keep, uint32_t seed, int threads = 1) {
  Dims qd = batch, kd = batch, vd = batch, yd = batch;
  qd.insert(qd.end(), {t, d}), kd.insert(kd.end(), {d, s}), vd.insert(vd.end(), {s, e});
  yd.insert(yd.end(), {t, e});
  const Dims lsed(yd.begin(), yd.end() - 1);
  const Tensor q = random_f32(qd, seed), kt = random_f32(kd, seed + 1), v = random_f32(vd, seed + 2);
  std::vector<Tensor> in = {q, kt, v, Tensor::scalar<float>(scale)};
  if (mask) in.push_back(*mask);
  const test::OpRun r = test::run_op("fc.Attention", in, {{"mask_keep", keep}}, 2, {}, threads);
  ASSERT_EQ(r.outputs[0].dims(), yd);
  ASSERT_EQ(r.outputs[1].dims(), lsed);
  const float* Q = q.data<float>();
  const float* K = kt.data<float>();
  const float* V = v.data<float>();
  const int64_t batches = numel(batch);
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t i = 0; i < t; ++i) {
      std::vector<double> sc(s), err(s);
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < s; ++j) {
        double dot = 0, mag = 0;
        for (int64_t k = 0; k < d; ++k) {
          const double p = double(Q[(b * t + i) * d + k]) * K[(b * d + k) * s + j];
          dot += p, mag += std::abs(p);
        }
        Dims idx = unravel(b, batch);
        idx.insert(idx.end(), {i, j});
        sc[j] = scale * dot + bias_of(mask, keep, idx);
        err[j] = (d + 2) * kU * std::abs(scale) * mag;
        mx = std::max(mx, sc[j]);
      }
      const int64_t row = b * t + i;
      const float got_lse = r.outputs[1].data<float>()[row];
      if (mx == -std::numeric_limits<double>::infinity()) {  // every key excluded: NaN, as Softmax gives
        for (int64_t c = 0; c < e; ++c) EXPECT_TRUE(std::isnan(r.outputs[0].data<float>()[row * e + c])) << row;
        EXPECT_EQ(got_lse, -std::numeric_limits<float>::infinity()) << row;
        continue;
      }
      double sum = 0, es = 0;
      for (int64_t j = 0; j < s; ++j) {
        sum += std::exp(sc[j] - mx);
        if (std::isfinite(sc[j])) es = std::max(es, err[j]);
      }
      const double lse = mx + std::log(sum);
      EXPECT_LE(std::abs(got_lse - lse), es + (s + 8) * kU * (1 + std::abs(lse))) << "lse of row " << row;
      const double rel = 2 * es + (s + 8) * kU;
      for (int64_t c = 0; c < e; ++c) {
        double y = 0, mag = 0;
        for (int64_t j = 0; j < s; ++j) {
          const double p = std::exp(sc[j] - lse), pv = p * V[(b * s + j) * e + c];
          y += pv, mag += std::abs(pv);
        }
        EXPECT_LE(std::abs(r.outputs[0].data<float>()[row * e + c] - y), (rel + (s + 2) * kU) * mag + 1e-30)
            << "y[" << row << ", " << c << "]";
      }
    }
}

TEST(AttentionForward, NoMask) {
  check_attention({2, 3}, 5, 7, 4, 3, 0.5f, nullptr, 0, 1);
  // Several tiles each way, so the running max and sum are rescaled from tile to tile.
  check_attention({2}, 130, 150, 16, 8, 0.25f, nullptr, 0, 11, 2);
}

TEST(AttentionForward, CausalBoolMaskBothConventions) {
  const int64_t t = 140, s = 140;
  Tensor upper(ir::DType::Bool, {t, s}), lower(ir::DType::Bool, {t, s});
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < s; ++j) {
      upper.data<bool>()[i * s + j] = j > i;   // Where(m, -inf, s): mask_keep 0 excludes the future
      lower.data<bool>()[i * s + j] = j <= i;  // Where(m, s, -inf): mask_keep 1 keeps the past
    }
  check_attention({2}, t, s, 8, 5, 0.35f, &upper, 0, 21, 2);
  check_attention({2}, t, s, 8, 5, 0.35f, &lower, 1, 31);
}

TEST(AttentionForward, KeyPaddingMaskBroadcastOverHeadsAndQueries) {
  // [B, 1, 1, S]: per sequence, its last keys are padding (mask_keep 1: true = a real key).
  const int64_t s = 9;
  Tensor keys(ir::DType::Bool, {2, 1, 1, s});
  for (int64_t j = 0; j < s; ++j) keys.data<bool>()[j] = j < 6, keys.data<bool>()[s + j] = j < 3;
  check_attention({2, 3}, 4, s, 5, 6, 0.4f, &keys, 1, 41);
}

TEST(AttentionForward, AdditiveFloatMaskWithInfinities) {
  const int64_t t = 70, s = 66;
  Tensor m = random_f32({t, s}, 51, -2, 2);
  // Some excluded keys, and query row 3 with every key excluded (y NaN, lse -inf).
  for (int64_t i = 0; i < t; ++i) m.data<float>()[i * s + (i * 7) % s] = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < s; ++j) m.data<float>()[3 * s + j] = -std::numeric_limits<float>::infinity();
  check_attention({3}, t, s, 12, 7, 0.3f, &m, 0, 61, 2);
}

}  // namespace
