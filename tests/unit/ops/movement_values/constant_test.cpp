// Constant: its value tensor comes out as given.
#include <gtest/gtest.h>

#include <cstring>

#include "ops_movement_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test;
using namespace fc::test::movement;

namespace {

TEST(MovementConstant, ReturnsTheValueTensor) {
  Tensor v = Tensor::from_vector<int64_t>({3}, {4, -1, 9});
  OpRun r = run_op("Constant", {}, {{"value", v}});
  expect_tensor<int64_t>(r.outputs[0], {3}, {4, -1, 9});
  EXPECT_EQ(ir::to_string(r.inferred[0]), "i64[3]");
  expect_tensor<float>(run1("Constant", {}, {{"value", Tensor::scalar<float>(2.5f)}}), {}, {2.5f});
  EXPECT_THROW(run1("Constant", {}), Error);
}

}  // namespace
