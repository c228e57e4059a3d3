// The tie rules of Max/Min's gradients through autodiff: a tie sends the gradient to the first
// input (PyTorch's rule), and a broadcast input collects the gradients of the elements it ties with.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

#include "op_test_util.h"
#include "ops_math_test_util.h"
#include "vjp_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Attribute;
using fc::ir::Tensor;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

Tensor from(const Ints& dims, const std::vector<float>& v) { return Tensor::from_vector<float>(dims, v); }

TEST(MathGrad, MaxMinSendTiesToTheFirstInput) {
  const Tensor a = from({4}, {1, 2, 3, 4}), b = from({4}, {1, 5, 3, 0}), c = from({4}, {1, 5, 2, 4});
  const Tensor seed = from({4}, {10, 20, 30, 40});
  auto g = test::seeded_vjp("Max", {a, b, c}, seed);
  EXPECT_EQ(test::values<float>(g[0]), (std::vector<float>{10, 0, 30, 40}));
  EXPECT_EQ(test::values<float>(g[1]), (std::vector<float>{0, 20, 0, 0}));
  EXPECT_EQ(test::values<float>(g[2]), (std::vector<float>{0, 0, 0, 0}));
  g = test::seeded_vjp("Min", {a, b, c}, seed);
  EXPECT_EQ(test::values<float>(g[0]), (std::vector<float>{10, 20, 0, 0}));
  EXPECT_EQ(test::values<float>(g[1]), (std::vector<float>{0, 0, 0, 40}));
  EXPECT_EQ(test::values<float>(g[2]), (std::vector<float>{0, 0, 30, 0}));
  // Broadcast: a scalar input that ties with some elements collects their gradient summed.
  g = test::seeded_vjp("Max", {from({}, {3}), from({4}, {1, 3, 5, 3})}, seed);
  EXPECT_EQ(test::values<float>(g[0]), (std::vector<float>{10 + 20 + 40}));
  EXPECT_EQ(test::values<float>(g[1]), (std::vector<float>{0, 0, 30, 0}));
}

}  // namespace
