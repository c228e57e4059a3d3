// fc.BatchNormTraining against PyTorch's training-mode batch_norm written here in double: batch
// statistics over N and the spatial axes, y = (x - mean) / sqrt(var + eps) * scale + B with the
// biased variance, running = (1 - momentum) * running + momentum * batch with the UNBIASED
// variance, saved_mean and saved_invstd = 1 / sqrt(var + eps) (what the gradient reads); with
// `relu`, y = max(y, 0). Every output checked.
// Tolerances: the statistics are sums in double rounded to float once: 2^-24 relative, doubled for
// the double sums' own error. y is x * a + b in float with a = scale * invstd and b = B - mean * a
// each rounded to float: four roundings, each at most 2^-24 of |x a| + |b|.
#include <gtest/gtest.h>

#include <cmath>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

using Dims = std::vector<int64_t>;
constexpr double kU = 0x1p-24;

void check_bn(const Dims& dims, float eps, float momentum, bool relu, uint32_t seed) {
  SCOPED_TRACE(::testing::Message() << "rank " << dims.size() << " eps " << eps << " momentum " << momentum
                                    << " relu " << relu);
  const int64_t n = dims[0], c = dims[1], s = numel(dims) / (n * c);
  // A channel offset well away from zero: a one-pass variance would lose digits here.
  Tensor x = random_f32(dims, seed, -2, 2);
  for (size_t i = 0; i < x.numel(); ++i) x.data<float>()[i] += float(10 * ((int64_t(i) / s) % c));
  const Tensor scale = random_f32({c}, seed + 1, 0.5f, 2), bias = random_f32({c}, seed + 2);
  const Tensor rmean = random_f32({c}, seed + 3), rvar = random_f32({c}, seed + 4, 0.5f, 2);
  const test::OpRun r = test::run_op("fc.BatchNormTraining", {x, scale, bias, rmean, rvar},
                                     {{"epsilon", eps}, {"momentum", momentum}, {"relu", int64_t{relu}}}, 5);
  const float* X = x.data<float>();
  std::vector<double> mean(c), var(c), unbiased(c), invstd(c), want_rm(c), want_rv(c);
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < s; ++k) sum += X[(i * c + ch) * s + k];
    mean[ch] = sum / double(n * s);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < s; ++k) sq += std::pow(X[(i * c + ch) * s + k] - mean[ch], 2);
    var[ch] = sq / double(n * s);
    unbiased[ch] = sq / double(n * s - 1);
    invstd[ch] = 1 / std::sqrt(var[ch] + double(eps));
    want_rm[ch] = (1 - double(momentum)) * rmean.data<float>()[ch] + double(momentum) * mean[ch];
    want_rv[ch] = (1 - double(momentum)) * rvar.data<float>()[ch] + double(momentum) * unbiased[ch];
  }
  expect_values<float>(r.outputs[1], {c}, want_rm, 2 * kU, 1e-12);
  expect_values<float>(r.outputs[2], {c}, want_rv, 2 * kU, 1e-12);
  expect_values<float>(r.outputs[3], {c}, mean, 2 * kU, 1e-12);
  expect_values<float>(r.outputs[4], {c}, invstd, 2 * kU, 1e-12);
  ASSERT_EQ(r.outputs[0].dims(), dims);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < s; ++k) {
        const int64_t at = (i * c + ch) * s + k;
        const double a = scale.data<float>()[ch] * invstd[ch];
        double y = (X[at] - mean[ch]) * a + bias.data<float>()[ch];
        if (relu) y = std::max(y, 0.0);
        const double tol = 4 * kU * (std::abs(X[at] * a) + std::abs(bias.data<float>()[ch]) + std::abs(mean[ch] * a));
        EXPECT_LE(std::abs(r.outputs[0].data<float>()[at] - y), tol) << "y element " << at;
      }
  for (int o = 0; o < 5; ++o) EXPECT_EQ(r.inferred[o], r.outputs[o].type()) << "output " << o;
}

TEST(BatchNormTrainingForward, EveryOutputMatchesTorchSemantics) {
  check_bn({4, 3, 5, 6}, 1e-5f, 0.1f, false, 1);
  check_bn({4, 3, 5, 6}, 1e-3f, 0.3f, true, 2);
  check_bn({16, 5}, 1e-5f, 0.1f, false, 3);        // [N, C]: BatchNorm1d
  check_bn({2, 4, 3, 2, 2}, 1e-5f, 1.0f, false, 4);  // 3-D spatial; momentum 1 takes the batch statistics
  check_bn({8, 70, 9, 9}, 1e-5f, 0.1f, true, 5);   // above the kernel's parallel threshold
}

TEST(BatchNormTrainingForward, HandValues) {
  // One channel, x = {1, 2, 3, 4}: mean 2.5, biased var 1.25, unbiased 5/3; eps 0, momentum 0.5,
  // running stats 0 and 1: running mean 1.25, running var (1 + 5/3) / 2 = 4/3.
  const test::OpRun r = test::run_op(
      "fc.BatchNormTraining",
      {Tensor::from_vector<float>({4, 1}, {1, 2, 3, 4}), Tensor::from_vector<float>({1}, {2}),
       Tensor::from_vector<float>({1}, {1}), Tensor::from_vector<float>({1}, {0}), Tensor::from_vector<float>({1}, {1})},
      {{"epsilon", 0.0f}, {"momentum", 0.5f}}, 5);
  const double is = 1 / std::sqrt(1.25);
  // y = x a + b, a = 2 is ~ 1.79, b = 1 - 2.5 a ~ -3.47: |x a| + |b| + |mean a| <= 16 (see the top).
  expect_values<float>(r.outputs[0], {4, 1}, {1 - 3 * is, 1 - is, 1 + is, 1 + 3 * is}, 0.0, 4 * kU * 16);
  expect_values<float>(r.outputs[1], {1}, {1.25}, kU);
  expect_values<float>(r.outputs[2], {1}, {4.0 / 3.0}, kU);
  expect_values<float>(r.outputs[3], {1}, {2.5}, kU);
  expect_values<float>(r.outputs[4], {1}, {is}, kU);
}

}  // namespace
