// Relu against max(x, 0) written out here: random values of both signs, the special values
// (signed zeros, infinities, NaN, denormals), and a tensor above the kernel's parallel threshold.
// max(x, 0) is exact in float, so every element must match exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

std::vector<double> relu_reference(const Tensor& x) {
  std::vector<double> r;
  for (float v : test::values<float>(x)) r.push_back(std::isnan(v) ? v : (v > 0 ? double(v) : 0.0));
  return r;
}

TEST(ReluForward, MatchesMaxWithZeroExactly) {
  for (const std::vector<int64_t>& dims : std::vector<std::vector<int64_t>>{{}, {7}, {3, 4, 5}, {3, 40000}}) {
    SCOPED_TRACE(dims.size());
    const Tensor x = random_f32(dims, 17 + static_cast<uint32_t>(dims.size()));
    const test::OpRun r = test::run_op("Relu", {x}, {}, 1, {}, /*threads=*/2);
    expect_values<float>(r.outputs[0], dims, relu_reference(x), 0.0, 0.0);
    EXPECT_EQ(r.inferred[0], ir::TensorType::concrete(ir::DType::F32, dims));
  }
}

TEST(ReluForward, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const Tensor x = Tensor::from_vector<float>({8}, {-0.0f, 0.0f, inf, -inf, nan, tiny, -tiny, -1e-30f});
  const test::OpRun r = test::run_op("Relu", {x});
  // NaN propagates (ONNX and PyTorch), +inf stays, everything not above zero becomes a zero.
  expect_values<float>(r.outputs[0], {8}, {0.0, 0.0, inf, 0.0, nan, double(tiny), 0.0, 0.0}, 0.0, 0.0);
}

}  // namespace
