// Softmax and LogSoftmax along every axis against a naive float64 reference written here, and
// their stability for large logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "op_test_util.h"
#include "ops_math_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Attribute;
using fc::ir::Tensor;

namespace {

using Dims = std::vector<int64_t>;
using Ints = std::vector<int64_t>;

// Reference softmax along `axis` in double.
std::vector<double> naive_softmax(const Tensor& x, int64_t axis, bool log) {
  const Dims& d = x.dims();
  std::vector<double> y(x.numel());
  for (int64_t i = 0; i < numel(d); ++i) {
    Dims idx = unravel(i, d);
    double mx = -std::numeric_limits<double>::infinity(), sum = 0;
    Dims j = idx;
    for (j[axis] = 0; j[axis] < d[axis]; ++j[axis]) mx = std::max<double>(mx, x.data<float>()[broadcast_index(j, d)]);
    for (j[axis] = 0; j[axis] < d[axis]; ++j[axis]) sum += std::exp(x.data<float>()[broadcast_index(j, d)] - mx);
    const double v = x.data<float>()[i];
    y[i] = log ? v - mx - std::log(sum) : std::exp(v - mx) / sum;
  }
  return y;
}

TEST(MathSoftmax, SoftmaxAndLogSoftmaxAlongEveryAxis) {
  struct Case {
    Dims x;
    int64_t axis;  // as given to the op
  };
  const std::vector<Case> cases = {{{2, 3, 4}, -1}, {{2, 3, 4}, 1}, {{2, 3, 4}, 0}, {{2, 3, 4}, -3},
                                   {{5}, 0},        {{2, 300, 3}, 1}, {{8, 1000}, -1}, {{3, 1}, -1}};
  uint32_t seed = 41;
  for (bool log : {false, true})
    for (const Case& c : cases) {
      const char* op = log ? "LogSoftmax" : "Softmax";
      SCOPED_TRACE(std::string(op) + " axis " + std::to_string(c.axis));
      Tensor x = random_f32(c.x, seed++, -10, 10);
      std::map<std::string, Attribute> attrs;
      if (c.axis != -1) attrs["axis"] = c.axis;
      test::OpRun r = test::run_op(op, {x}, attrs, 1, {}, /*threads=*/2);
      const int64_t axis = c.axis < 0 ? c.axis + int64_t(c.x.size()) : c.axis;
      expect_values<float>(r.outputs[0], c.x, naive_softmax(x, axis, log), 1.8e-7, 1e-12);
      EXPECT_EQ(r.inferred[0], x.type());
    }
}

TEST(MathSoftmax, StableForLargeLogits) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {1000, 1001, 1002, -1000, -1000, -1000});
  test::OpRun s = test::run_op("Softmax", {x});
  const double e1 = std::exp(-1.0), e2 = std::exp(-2.0), z = 1 + e1 + e2;
  expect_values<float>(s.outputs[0], {2, 3}, {e2 / z, e1 / z, 1 / z, 1.0 / 3, 1.0 / 3, 1.0 / 3});
  test::OpRun l = test::run_op("LogSoftmax", {x});
  expect_values<float>(l.outputs[0], {2, 3},
                       {-2 - std::log(z), -1 - std::log(z), -std::log(z), -std::log(3.0), -std::log(3.0), -std::log(3.0)});
  EXPECT_EQ(to_string(infer_types("Softmax", {f32({N(), K(10)})})[0]), "f32[N,10]");
  EXPECT_THROW(infer_types("Softmax", {f32({N(), K(10)})}, {{"axis", int64_t{2}}}), Error);
  EXPECT_THROW(infer_types("LogSoftmax", {f32({})}), Error);
}

}  // namespace
