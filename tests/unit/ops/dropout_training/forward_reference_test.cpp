// fc.DropoutTraining(x, rng = [seed, step]) {ratio, stream} -> (y, scale), checked against its
// definition: scale is 0 (dropped) or 1 / (1 - ratio) (kept), y = x * scale; the kept fraction of a
// large tensor is 1 - ratio within a binomial bound; ratio 0 keeps everything; equal (seed, step,
// stream) give the same mask at any thread count, and changing any of them gives another.
#include <gtest/gtest.h>

#include <cmath>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

test::OpRun dropout(const Tensor& x, int64_t seed, int64_t step, float ratio, int64_t stream = 0, int threads = 1) {
  return test::run_op("fc.DropoutTraining", {x, Tensor::from_vector<int64_t>({2}, {seed, step})},
                      {{"ratio", ratio}, {"stream", stream}}, 2, {}, threads);
}

// Checks y and scale elementwise against the definition; returns the kept count.
int64_t check_outputs(const Tensor& x, const test::OpRun& r, float ratio) {
  const float* X = x.data<float>();
  const float* Y = r.outputs[0].data<float>();
  const float* S = r.outputs[1].data<float>();
  EXPECT_EQ(r.outputs[0].dims(), x.dims());
  EXPECT_EQ(r.outputs[1].dims(), x.dims());
  // 1 - ratio is exact in float for these ratios, so the kernel's 1.0f / (1.0f - ratio) is the
  // correctly rounded 1 / (1 - ratio).
  const float keep_scale = static_cast<float>(1.0 / (1.0 - double(ratio)));
  int64_t kept = 0, bad = 0;
  for (size_t i = 0; i < x.numel(); ++i) {
    const bool k = S[i] != 0.0f;
    kept += k;
    // y is one float product of x and the returned scale: exact to compare.
    if ((k && S[i] != keep_scale) || Y[i] != X[i] * S[i]) ++bad;
    // And y against x / (1 - ratio) in double: two roundings.
    if (k && std::abs(Y[i] - X[i] / (1.0 - double(ratio))) > 2 * 0x1p-24 * std::abs(Y[i])) ++bad;
  }
  EXPECT_EQ(bad, 0);
  return kept;
}

TEST(DropoutTrainingForward, OutputsFollowTheMaskAndKeepTheRightFraction) {
  const Tensor x = random_f32({1000, 1000}, 1);
  for (float ratio : {0.1f, 0.5f, 0.75f}) {
    SCOPED_TRACE(ratio);
    const test::OpRun r = dropout(x, 42, 7, ratio, 3, 2);
    const double n = double(x.numel()), kept = double(check_outputs(x, r, ratio));
    // Binomial(n, 1 - ratio): 6 standard deviations (sqrt(n p (1 - p)) <= 500 here) fail by chance
    // with probability ~2e-9; a ratio off by 0.003 fails.
    EXPECT_LE(std::abs(kept - n * (1 - ratio)), 6 * std::sqrt(n * ratio * (1 - ratio)));
  }
}

TEST(DropoutTrainingForward, RatioZeroKeepsEverything) {
  const Tensor x = random_f32({300, 7}, 2);
  const test::OpRun r = dropout(x, 1, 0, 0.0f);
  EXPECT_EQ(check_outputs(x, r, 0.0f), int64_t(x.numel()));
  EXPECT_EQ(test::values<float>(r.outputs[0]), test::values<float>(x));
  EXPECT_EQ(test::values<float>(r.outputs[1]), std::vector<float>(x.numel(), 1.0f));
}

TEST(DropoutTrainingForward, DeterministicPerSeedStepStream) {
  const Tensor x = random_f32({200, 500}, 3);
  const std::vector<float> mask = test::values<float>(dropout(x, 5, 2, 0.5f, 1).outputs[1]);
  EXPECT_EQ(test::values<float>(dropout(x, 5, 2, 0.5f, 1).outputs[1]), mask);
  EXPECT_EQ(test::values<float>(dropout(x, 5, 2, 0.5f, 1, 2).outputs[1]), mask);  // any thread count
  // Another seed, step or stream: an independent mask, agreeing on about half the elements.
  for (const test::OpRun& other : {dropout(x, 6, 2, 0.5f, 1), dropout(x, 5, 3, 0.5f, 1), dropout(x, 5, 2, 0.5f, 2)}) {
    const std::vector<float> m = test::values<float>(other.outputs[1]);
    int64_t same = 0;
    for (size_t i = 0; i < m.size(); ++i) same += m[i] == mask[i];
    EXPECT_NEAR(double(same) / double(m.size()), 0.5, 0.01);
  }
}

}  // namespace
