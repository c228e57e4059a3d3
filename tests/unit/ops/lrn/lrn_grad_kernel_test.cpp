// LRN's backward (fc.LRNGrad) through autodiff and the CPU kernel, against the float64 derivative
// of the ONNX formula written here.
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

TEST(DnnlLrnGrad, MatchesDerivativeOfOnnxFormula) {
  for (int64_t size : {1, 3, 4, 5}) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::mt19937 rng(10);
    const int64_t n = 2, c = 7, s = 300;  // s > one 256-position tile
    Tensor x = test::random_tensor({n, c, s, 1}, rng, -2.0f, 2.0f);
    const double alpha = 0.9, beta = 0.75, bias = 1.5;
    Vjp v = vjp("LRN", {x}, {{"size", size}, {"alpha", float(alpha)}, {"beta", float(beta)}, {"bias", float(bias)}},
                {0}, /*threads=*/4);
    // y_c = x_c * S_c^-beta, S_c = bias + alpha/size * sum_{j in W(c)} x_j^2
    // dx_i = sum_c dy_c dy_c/dx_i = dy_i S_i^-beta - beta * sum_{c: i in W(c)} dy_c x_c S_c^(-beta-1) * 2 alpha/size x_i
    const int64_t lo = (size - 1) / 2, hi = size / 2;
    std::vector<double> dx(x.numel());
    auto idx = [&](int64_t b, int64_t ch, int64_t p) { return (b * c + ch) * s + p; };
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < s; ++p) {
        std::vector<double> S(c);
        for (int64_t ch = 0; ch < c; ++ch) {
          double sum = 0;
          for (int64_t j = std::max<int64_t>(0, ch - lo); j <= std::min(c - 1, ch + hi); ++j)
            sum += test::at(x, idx(b, j, p)) * test::at(x, idx(b, j, p));
          S[ch] = bias + alpha / double(size) * sum;
        }
        for (int64_t ch = 0; ch < c; ++ch) {
          const double g = test::at(v.dy, idx(b, ch, p)), xc = test::at(x, idx(b, ch, p));
          dx[idx(b, ch, p)] += g * std::pow(S[ch], -beta);
          for (int64_t i = std::max<int64_t>(0, ch - lo); i <= std::min(c - 1, ch + hi); ++i)
            dx[idx(b, i, p)] -= g * xc * beta * std::pow(S[ch], -beta - 1) * 2 * alpha / double(size) *
                                test::at(x, idx(b, i, p));
        }
      }
    test::expect_close(v.grads[0], x.dims(), dx, 1e-5);
  }
}

}  // namespace
