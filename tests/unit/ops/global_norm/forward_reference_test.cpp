// fc.GlobalNorm against sqrt(sum of squares) of every input's elements, summed here in long double
// (independently of the kernel's double sum and its order). The result is one float: the exact
// norm rounded once, so it is within half an ulp (2^-24 relative) of the reference; 1.2e-7 leaves
// room for the double sum's error (~1e-16 relative), nothing more.
#include <gtest/gtest.h>

#include <cmath>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

double norm_reference(const std::vector<Tensor>& xs) {
  long double s = 0;
  for (const Tensor& t : xs)
    for (float v : test::values<float>(t)) s += static_cast<long double>(v) * v;
  return static_cast<double>(std::sqrt(s));
}

TEST(GlobalNormForward, NormOfAllInputsTogether) {
  // A scalar, a vector, a matrix and a large tensor: the norm covers every element of every input.
  const std::vector<Tensor> xs = {random_f32({}, 1), random_f32({5}, 2), random_f32({3, 7}, 3, -10, 10),
                                  random_f32({200, 300}, 4, -1e-3f, 1e-3f)};
  const test::OpRun r = test::run_op("fc.GlobalNorm", xs);
  expect_values<float>(r.outputs[0], {}, {norm_reference(xs)}, 1.2e-7);
  EXPECT_EQ(r.inferred[0], ir::TensorType::concrete(ir::DType::F32, {}));
}

TEST(GlobalNormForward, HandValues) {
  // sqrt(3^2 + 4^2) = 5; with 12 more: sqrt(25 + 144) = 13; all zeros: 0.
  EXPECT_EQ(test::values<float>(test::run_op("fc.GlobalNorm", {Tensor::from_vector<float>({2}, {3, -4})}).outputs[0]),
            std::vector<float>{5.0f});
  EXPECT_EQ(test::values<float>(test::run_op("fc.GlobalNorm", {Tensor::from_vector<float>({2}, {3, -4}),
                                                               Tensor::from_vector<float>({1, 1}, {12})})
                                    .outputs[0]),
            std::vector<float>{13.0f});
  EXPECT_EQ(test::values<float>(test::run_op("fc.GlobalNorm", {Tensor(ir::DType::F32, {4})}).outputs[0]),
            std::vector<float>{0.0f});
}

TEST(GlobalNormForward, SquaresDoNotOverflowInFloat) {
  // 1e30^2 overflows float; the norm (sqrt(2) * 1e30) does not, and the op must not lose it.
  const Tensor x = Tensor::from_vector<float>({2}, {1e30f, -1e30f});
  const test::OpRun r = test::run_op("fc.GlobalNorm", {x});
  expect_values<float>(r.outputs[0], {}, {norm_reference({x})}, 1.2e-7);
}

}  // namespace
