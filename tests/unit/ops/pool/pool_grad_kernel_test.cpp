// The pools' backward (fc.MaxPoolGrad, fc.AveragePoolGrad, global pools) through autodiff and the
// CPU kernels, against naive float64 loops: ceil mode, padding, count_include_pad, PyTorch's
// first-maximum tie rule and its NaN rule.
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

Tensor as_2d(const Tensor& t) {
  if (t.rank() == 4) return t;
  return t.reshaped({t.dim(0), t.dim(1), 1, t.dim(2)});
}

struct Pool2d {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
};

enum class Mode { Max, AvgExcludePad, AvgIncludePad };

// x: [N, C, H, W], dy: [N, C, OH, OW] -> dx. Max: the first maximum in row-major window order
// gets dy. Averages: PyTorch's divisor, the window clipped to the input (exclude) or to the input
// and its declared padding (include).
std::vector<double> pool_grad_ref(const Tensor& x, const Tensor& dy, const Pool2d& p, Mode mode) {
  const int64_t nc = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3), oh = dy.dim(2), ow = dy.dim(3);
  std::vector<double> dx(x.numel());
  for (int64_t q = 0; q < nc; ++q)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t h0 = i * p.sh - p.pt, w0 = j * p.sw - p.pl;
        const double g = test::at(dy, (q * oh + i) * ow + j);
        std::vector<int64_t> taps;
        for (int64_t a = 0; a < p.kh; ++a)
          for (int64_t e = 0; e < p.kw; ++e) {
            const int64_t yy = h0 + a * p.dh, xx = w0 + e * p.dw;
            if (yy >= 0 && yy < h && xx >= 0 && xx < w) taps.push_back((q * h + yy) * w + xx);
          }
        if (mode == Mode::Max) {
          int64_t best = taps[0];
          for (int64_t t : taps)
            if (test::at(x, t) > test::at(x, best)) best = t;
          dx[best] += g;
          continue;
        }
        double div = double(taps.size());
        if (mode == Mode::AvgIncludePad)
          div = double((std::min(h0 + p.kh, h + p.pb) - h0) * (std::min(w0 + p.kw, w + p.pr) - w0));
        for (int64_t t : taps) dx[t] += g / div;
      }
  return dx;
}

struct PoolCase {
  std::string name, op;
  Ints x;
  Pool2d ref;
  Mode mode;
  Attrs attrs;
};

TEST(DnnlPoolGrad, WindowPoolsMatchReference) {
  const std::vector<PoolCase> cases = {
      {"max 3x3/2, pads, ceil extension", "MaxPool", {2, 3, 6, 6}, {3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, Mode::Max,
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}, {"ceil_mode", int64_t{1}}}},
      // Stride 1 over rows wider than 8 outputs: MaxPoolGrad's 8-lane path and its scalar edges.
      {"max 3x3/1, pads, wide rows", "MaxPool", {2, 3, 9, 21}, {3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, Mode::Max,
       {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}}},
      {"max dilated overlapping", "MaxPool", {1, 2, 5, 6}, {2, 2, 1, 1, 2, 2}, Mode::Max,
       {{"kernel_shape", Ints{2, 2}}, {"dilations", Ints{2, 2}}}},
      {"avg include pad, ceil extension", "AveragePool", {1, 2, 6, 5}, {3, 2, 2, 2, 1, 1, 1, 1, 1, 0},
       Mode::AvgIncludePad,
       {{"kernel_shape", Ints{3, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 0}}, {"ceil_mode", int64_t{1}},
        {"count_include_pad", int64_t{1}}}},
      {"avg include pad, no extension", "AveragePool", {1, 2, 5, 5}, {3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
       Mode::AvgIncludePad,
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}},
        {"count_include_pad", int64_t{1}}}},
      {"avg exclude pad, ceil extension", "AveragePool", {2, 2, 6, 5}, {3, 2, 2, 2, 1, 1, 1, 1, 1, 0},
       Mode::AvgExcludePad,
       {{"kernel_shape", Ints{3, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 0}}, {"ceil_mode", int64_t{1}}}},
      // 1-D SAME_UPPER, k 4, s 3 on 7: out 3, total pad 3 -> (1, 2).
      {"avg 1-D SAME_UPPER", "AveragePool", {2, 2, 7}, {1, 4, 1, 3, 1, 1, 0, 1, 0, 2}, Mode::AvgExcludePad,
       {{"kernel_shape", Ints{4}}, {"strides", Ints{3}}, {"auto_pad", std::string("SAME_UPPER")}}},
  };
  for (const PoolCase& pc : cases) {
    SCOPED_TRACE(pc.name);
    std::mt19937 rng(5);
    Tensor x = test::random_tensor(pc.x, rng);
    Vjp v = vjp(pc.op, {x}, pc.attrs, {0});
    EXPECT_EQ(v.ops, std::vector<std::string>{"fc." + pc.op + "Grad"});
    test::expect_close(v.grads[0], pc.x, pool_grad_ref(as_2d(x), as_2d(v.dy), pc.ref, pc.mode), 1e-6);
  }
}

TEST(DnnlPoolGrad, MaxPoolTiesGoToTheFirstMaximumInWindowOrder) {
  // Equal values everywhere: every window's gradient lands on its top-left tap (rows of 19
  // outputs: the 8-lane path and the scalar one).
  Tensor x(DType::F32, {1, 1, 4, 20});
  Vjp v = vjp("MaxPool", {x}, {{"kernel_shape", Ints{2, 2}}}, {0});
  ASSERT_EQ(v.dy.dims(), (Ints{1, 1, 3, 19}));
  std::vector<double> want(80, 0.0);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 19; ++j) want[i * 20 + j] = test::at(v.dy, i * 19 + j);
  test::expect_close(v.grads[0], {1, 1, 4, 20}, want, 0.0);
}

TEST(DnnlPoolGrad, MaxPoolSendsAWindowsGradientToItsNaN) {
  // PyTorch's rule: a NaN counts as the maximum (oneDNN's workspace would skip it; such an x takes
  // the direct loop). x = 0..15 row-major, a NaN at (1, 1): windows 2x2/1 that hold it send dy there.
  std::vector<float> values(16);
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i);
  values[5] = std::nanf("");
  Tensor x = Tensor::from_vector<float>({1, 1, 4, 4}, values);
  Vjp v = vjp("MaxPool", {x}, {{"kernel_shape", Ints{2, 2}}}, {0});
  ASSERT_EQ(v.dy.dims(), (Ints{1, 1, 3, 3}));
  std::vector<double> want(16, 0.0);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      const bool holds_nan = i <= 1 && j <= 1;  // windows starting at rows/cols 0..1 cover (1, 1)
      want[holds_nan ? 5 : (i + 1) * 4 + j + 1] += test::at(v.dy, i * 3 + j);
    }
  test::expect_close(v.grads[0], {1, 1, 4, 4}, want, 0.0);
}

TEST(DnnlPoolGrad, GlobalPoolsMatchReference) {
  std::mt19937 rng(6);
  Tensor x = test::random_tensor({2, 3, 4, 5}, rng);
  Vjp avg = vjp("GlobalAveragePool", {x}, {}, {0});
  test::expect_close(avg.grads[0], x.dims(), pool_grad_ref(x, avg.dy, {4, 5, 1, 1}, Mode::AvgExcludePad), 1e-6);
  Vjp max = vjp("GlobalMaxPool", {x}, {}, {0});
  test::expect_close(max.grads[0], x.dims(), pool_grad_ref(x, max.dy, {4, 5, 1, 1}, Mode::Max), 1e-6);
}

}  // namespace
