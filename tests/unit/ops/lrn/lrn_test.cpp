// LRN on the CPU backend (oneDNN) against a naive float64 loop of the ONNX formula, one thread and
// several.
#include <gtest/gtest.h>

#include <cmath>

#include "ir/shape_util.h"
#include "op_test_util.h"
#include "ops_dnnl_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::ir;

namespace {

using V = std::vector<int64_t>;

// ONNX LRN: x / (bias + alpha / size * sum of squares over [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta
std::vector<double> lrn_ref(const Tensor& x, int64_t size, double alpha, double beta, double bias) {
  const int64_t n = x.dim(0), c = x.dim(1), s = product(x.dims(), 2);
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  std::vector<double> y(x.numel());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t j = 0; j < s; ++j) {
        double sum = 0;
        for (int64_t q = std::max<int64_t>(0, ch - before); q <= std::min(c - 1, ch + after); ++q)
          sum += test::at(x, (i * c + q) * s + j) * test::at(x, (i * c + q) * s + j);
        const int64_t idx = (i * c + ch) * s + j;
        y[idx] = test::at(x, idx) / std::pow(bias + alpha / double(size) * sum, beta);
      }
  return y;
}

}  // namespace

TEST(DnnlLrn, MatchesOnnxFormula) {
  struct Case {
    V dims;
    int64_t size;
    float alpha, beta, bias;
  };
  // Even sizes have ONNX's lopsided window (one more channel after c than before).
  for (const Case& c : {Case{{2, 7, 4, 5}, 3, 1e-1f, 0.75f, 1.0f}, Case{{2, 8, 3, 3}, 5, 2e-1f, 0.6f, 2.0f},
                        Case{{1, 16, 6, 6}, 5, 1e-4f, 0.75f, 1.0f}, Case{{2, 6, 5}, 3, 0.5f, 1.0f, 0.5f},
                        Case{{1, 9, 2, 3}, 4, 0.3f, 0.75f, 1.0f}, Case{{1, 5, 3, 3}, 2, 0.7f, 0.5f, 1.5f}}) {
    SCOPED_TRACE(to_string(TensorType::concrete(DType::F32, c.dims)) + " size " + std::to_string(c.size));
    std::mt19937 rng(31);
    Tensor x = test::random_tensor(c.dims, rng, -3, 3);
    test::OpRun r = test::run_op(
        "LRN", {x}, {{"size", c.size}, {"alpha", c.alpha}, {"beta", c.beta}, {"bias", c.bias}});
    test::expect_close(r.outputs[0], c.dims, lrn_ref(x, c.size, c.alpha, c.beta, c.bias));
  }
  std::mt19937 rng(1);
  EXPECT_THROW(test::run_op("LRN", {test::random_tensor({1, 3, 2, 2}, rng)}), Error);  // size is required
}

// Large enough that the loops run in parallel (two threads) and oneDNN splits the work.
TEST(DnnlLrn, ParallelMatchesReference) {
  for (int64_t size : {4, 5}) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::mt19937 rng(8);
    Tensor x = test::random_tensor({2, 12, 48, 48}, rng, -2, 2);
    test::OpRun r = test::run_op("LRN", {x}, {{"size", size}, {"alpha", 0.2f}}, 1, {}, /*threads=*/2);
    test::expect_close(r.outputs[0], x.dims(), lrn_ref(x, size, 0.2, 0.75, 1.0));
  }
}
