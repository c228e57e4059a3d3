// The backward of inference-form BatchNormalization (fc.BatchNormInferenceGrad) through autodiff and
// the CPU kernel, against a naive float64 loop written here from the forward definition.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ops_dnnl_test_util.h"
#include "vjp_test_util.h"

using namespace fc;
using namespace fc::ir;

using fc::test::Vjp;
using fc::test::vjp;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

TEST(DnnlBatchNormGrad, InferenceFormGradientsMatchReference) {
  std::mt19937 rng(11);
  const int64_t n = 3, c = 4, s = 5;
  Tensor x = test::random_tensor({n, c, s}, rng), scale = test::random_tensor({c}, rng, 0.5f, 1.5f);
  Tensor bias = test::random_tensor({c}, rng), mean = test::random_tensor({c}, rng);
  Tensor var = test::random_tensor({c}, rng, 0.2f, 2.0f);
  const double eps = 1e-3;
  Vjp v = vjp("BatchNormalization", {x, scale, bias, mean, var}, {{"epsilon", float(eps)}}, {0, 1, 2, 3, 4});
  std::vector<double> dx(x.numel()), dscale(c), db(c), dmean(c), dvar(c);
  for (int64_t ch = 0; ch < c; ++ch) {
    const double is = 1.0 / std::sqrt(test::at(var, ch) + eps), sc = test::at(scale, ch), mu = test::at(mean, ch);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < s; ++p) {
        const int64_t i = (b * c + ch) * s + p;
        const double g = test::at(v.dy, i), xc = test::at(x, i) - mu;
        dx[i] = g * sc * is;
        dscale[ch] += g * xc * is;
        db[ch] += g;
        dmean[ch] -= g * sc * is;
        dvar[ch] += g * sc * xc * -0.5 * is * is * is;
      }
  }
  test::expect_close(v.grads[0], x.dims(), dx, 1e-5);
  test::expect_close(v.grads[1], {c}, dscale, 1e-5);
  test::expect_close(v.grads[2], {c}, db, 1e-5);
  test::expect_close(v.grads[3], {c}, dmean, 1e-5);
  test::expect_close(v.grads[4], {c}, dvar, 1e-5);
}

}  // namespace
