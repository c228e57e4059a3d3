// fc.ConvRelu = max(Conv(x, w [, b]), 0) against a naive float64 convolution written here (ONNX
// Conv: groups, strides, dilations, explicit pads; 1-D and 2-D; with and without bias).
// Tolerance: an output element is a float dot product of K = C/G * prod(kernel) terms plus the
// bias, off by at most (K + 2) 2^-24 (sum |x w| + |b|) in any summation order; the relu is exact
// (and a clamped element must be exactly 0 when the reference is clearly negative).
#include <gtest/gtest.h>

#include <cmath>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

using Dims = std::vector<int64_t>;

struct ConvCase {
  Dims x, w;
  int64_t group = 1;
  Dims strides, dilations, pads;  // pads: begins then ends, per spatial axis
  bool bias = true;
};

// Output size per spatial axis, as ONNX defines it.
Dims out_dims(const ConvCase& c) {
  const size_t k = c.x.size() - 2;
  Dims o = {c.x[0], c.w[0]};
  for (size_t a = 0; a < k; ++a)
    o.push_back((c.x[a + 2] + c.pads[a] + c.pads[a + k] - c.dilations[a] * (c.w[a + 2] - 1) - 1) / c.strides[a] + 1);
  return o;
}

void check(const ConvCase& c, uint32_t seed) {
  const size_t k = c.x.size() - 2;
  const Tensor x = random_f32(c.x, seed), w = random_f32(c.w, seed + 1, -0.5f, 0.5f);
  const Tensor b = random_f32({c.w[0]}, seed + 2);
  const Dims od = out_dims(c);
  std::vector<Tensor> in = {x, w};
  if (c.bias) in.push_back(b);
  const test::OpRun r = test::run_op(
      "fc.ConvRelu", in,
      {{"group", c.group}, {"strides", c.strides}, {"dilations", c.dilations}, {"pads", c.pads}, {"kernel_shape",
       Dims(c.w.begin() + 2, c.w.end())}});
  ASSERT_EQ(r.outputs[0].dims(), od);
  const int64_t cg = c.w[1], mg = c.w[0] / c.group, kn = numel(Dims(c.w.begin() + 2, c.w.end()));
  const Dims kdims(c.w.begin() + 2, c.w.end());
  for (int64_t o = 0; o < numel(od); ++o) {
    const Dims oi = unravel(o, od);  // n, m, spatial...
    const int64_t n = oi[0], m = oi[1], g = m / mg;
    double acc = c.bias ? b.data<float>()[m] : 0.0, mag = std::abs(acc);
    for (int64_t ci = 0; ci < cg; ++ci)
      for (int64_t kk = 0; kk < kn; ++kk) {
        const Dims ki = unravel(kk, kdims);
        int64_t xflat = n * c.x[1] + g * cg + ci;
        bool inside = true;
        for (size_t a = 0; a < k; ++a) {
          const int64_t pos = oi[a + 2] * c.strides[a] - c.pads[a] + ki[a] * c.dilations[a];
          inside = inside && pos >= 0 && pos < c.x[a + 2];
          xflat = xflat * c.x[a + 2] + pos;
        }
        if (!inside) continue;  // zero padding
        const double p = double(x.data<float>()[xflat]) * w.data<float>()[(m * cg + ci) * kn + kk];
        acc += p, mag += std::abs(p);
      }
    const double tol = (cg * kn + 2) * 0x1p-24 * mag;
    const float got = r.outputs[0].data<float>()[o];
    EXPECT_LE(std::abs(got - std::max(acc, 0.0)), tol) << "output " << o << " pre-relu " << acc;
    if (acc < -tol) {
      EXPECT_EQ(got, 0.0f) << "output " << o;
    }
  }
}

TEST(ConvReluForward, MatchesNaiveConvolutionThenRelu) {
  ConvCase c{{2, 3, 7, 8}, {4, 3, 3, 3}, 1, {1, 1}, {1, 1}, {0, 0, 0, 0}, true};  // plain 3x3, bias
  check(c, 1);
  c = {{1, 4, 9, 9}, {6, 2, 3, 2}, 2, {2, 1}, {1, 2}, {1, 0, 2, 1}, false};  // groups, strides, dilations, pads
  check(c, 4);
  c = {{2, 6, 8, 8}, {6, 1, 3, 3}, 6, {1, 1}, {1, 1}, {1, 1, 1, 1}, true};   // depthwise, same padding
  check(c, 7);
  c = {{3, 2, 20}, {5, 2, 4}, 1, {3}, {2}, {2, 1}, true};                  // 1-D
  check(c, 10);
}

}  // namespace
