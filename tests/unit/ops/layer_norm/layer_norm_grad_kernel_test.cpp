// LayerNormalization's gradient kernel (fc.LayerNormalizationGrad) against a float64 reference
// written here, with and without the Mean/InvStdDev outputs seeded, and its threaded path
// against one thread.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Attribute;
using fc::ir::Tensor;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

struct LnRef {
  std::vector<double> dx, dscale, db;
};

// Direct float64 evaluation of the textbook formulas (statistics recomputed from x, or the given
// float Mean/InvStdDev); scale as a full [D] vector; dmean/dinv optional per-row gradients.
LnRef ln_reference(const Tensor& dy, const Tensor& x, const std::vector<double>& scale, int64_t rows, int64_t d,
                   double eps, const float* mean_in, const float* inv_in, const float* dmean, const float* dinv) {
  LnRef r{std::vector<double>(rows * d), std::vector<double>(d, 0.0), std::vector<double>(d, 0.0)};
  for (int64_t i = 0; i < rows; ++i) {
    const float* xr = x.data<float>() + i * d;
    const float* gr = dy.data<float>() + i * d;
    double mean = 0, var = 0;
    for (int64_t j = 0; j < d; ++j) mean += xr[j];
    mean /= double(d);
    for (int64_t j = 0; j < d; ++j) var += (xr[j] - mean) * (xr[j] - mean);
    var /= double(d);
    double inv = 1 / std::sqrt(var + eps);
    if (mean_in) {
      mean = mean_in[i];
      inv = inv_in[i];
    }
    double mg = 0, mgx = 0;
    for (int64_t j = 0; j < d; ++j) {
      mg += gr[j] * scale[j] / double(d);
      mgx += gr[j] * scale[j] * (xr[j] - mean) * inv / double(d);
    }
    for (int64_t j = 0; j < d; ++j) {
      const double xhat = (xr[j] - mean) * inv;
      double v = inv * (gr[j] * scale[j] - mg - xhat * mgx);
      if (dmean) v += dmean[i] / double(d);
      if (dinv) v += dinv[i] * (-inv * inv * inv) * (xr[j] - mean) / double(d);
      r.dx[i * d + j] = v;
      r.dscale[j] += gr[j] * xhat;
      r.db[j] += gr[j];
    }
  }
  return r;
}

TEST(MathGrad, LayerNormGradMatchesReference) {
  // X [2, 3, 4] normalised over the last two dims, Scale [4] broadcast to [3, 4].
  const Ints dims{2, 3, 4};
  const Tensor x = random_f32(dims, 70), dy = random_f32(dims, 71), scale = random_f32({4}, 72, 0.5f, 1.5f);
  std::vector<double> scale_full(12);
  for (int j = 0; j < 12; ++j) scale_full[j] = scale.data<float>()[j % 4];
  const Attrs at{{"axis", int64_t{-2}}, {"epsilon", 1e-3f}};
  {
    SCOPED_TRACE("statistics recomputed");
    const auto out = test::run_op_outputs("LayerNormalizationGrad", "fc", {dy, x, scale}, at, 3);
    const LnRef ref = ln_reference(dy, x, scale_full, 2, 12, double(1e-3f), nullptr, nullptr, nullptr, nullptr);
    expect_values<float>(out[0], dims, ref.dx, 1e-6, 1e-7);
    expect_values<float>(out[1], {3, 4}, ref.dscale, 1e-6, 1e-7);
    expect_values<float>(out[2], {3, 4}, ref.db, 1e-6, 1e-7);
  }
  {
    SCOPED_TRACE("saved statistics and gradients into them");
    const auto fwd = test::run_op_outputs("LayerNormalization", "", {x, scale}, at, 3);
    const Tensor dmean = random_f32(fwd[1].dims(), 73), dinv = random_f32(fwd[2].dims(), 74);
    const auto out = test::run_op_outputs("LayerNormalizationGrad", "fc", {dy, x, scale, fwd[1], fwd[2], dmean, dinv}, at, 1);
    const LnRef ref = ln_reference(dy, x, scale_full, 2, 12, double(1e-3f), fwd[1].data<float>(),
                                   fwd[2].data<float>(), dmean.data<float>(), dinv.data<float>());
    expect_values<float>(out[0], dims, ref.dx, 1e-6, 1e-7);
  }
}

TEST(MathGrad, LayerNormGradOnLargeInputsUsesThreadsAndMatches) {
  // 3000 rows: more rows than column-sum blocks, so blocks hold several rows each.
  const Ints dims{3000, 24};
  const Tensor x = random_f32(dims, 80), dy = random_f32(dims, 81), scale = random_f32({24}, 82, 0.5f, 1.5f);
  const auto one = test::run_op_outputs("LayerNormalizationGrad", "fc", {dy, x, scale}, {}, 3, 1);
  const auto four = test::run_op_outputs("LayerNormalizationGrad", "fc", {dy, x, scale}, {}, 3, 4);
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(0, std::memcmp(one[k].raw(), four[k].raw(), one[k].nbytes())) << k;
  std::vector<double> scale_full(scale.data<float>(), scale.data<float>() + 24);
  const LnRef ref = ln_reference(dy, x, scale_full, 3000, 24, double(1e-5f), nullptr, nullptr, nullptr, nullptr);
  expect_values<float>(one[0], dims, ref.dx, 1e-6, 1e-6);
  expect_values<float>(one[1], {24}, ref.dscale, 1e-6, 1e-5);
  expect_values<float>(one[2], {24}, ref.db, 1e-6, 1e-5);
}

}  // namespace
