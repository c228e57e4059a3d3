// Gradient rules of the layout ops against their adjoints (movement_adjoint.h), hand-computed
// gradients, and the cases without a rule saying why.
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"
#include "movement_adjoint.h"
#include "ops_movement_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test;
using namespace fc::test::movement;

namespace {

TEST(MovementGrad, AdjointsOfLayoutOps) {
  check_adjoint({"Transpose", {{2, 3, 4}}, {{"perm", Ints{1, 2, 0}}}});
  check_adjoint({"Transpose", {{5, 3}}});
  check_adjoint({"Slice", {{4, 6}}, {{"starts", Ints{1, -4}}, {"ends", Ints{3, INT64_MAX}}}});
  check_adjoint({"Slice", {{4, 6}}, {{"starts", Ints{2}}, {"ends", Ints{100}}, {"axes", Ints{-1}}}});
  // Strided: steps 2 and 3 ending short of the input, negative steps, an axis taking nothing.
  check_adjoint({"Slice", {{6}}, {{"starts", Ints{0}}, {"ends", Ints{6}}, {"steps", Ints{2}}}});
  check_adjoint({"Slice", {{2, 7, 8}}, {{"starts", Ints{1, 0}}, {"ends", Ints{INT64_MAX, 7}}, {"axes", Ints{1, 2}},
                                        {"steps", Ints{2, 3}}}});
  check_adjoint({"Slice", {{3, 9}}, {{"starts", Ints{-2}}, {"ends", Ints{0}}, {"axes", Ints{1}}, {"steps", Ints{-2}}}});
  check_adjoint({"Slice", {{4, 5}}, {{"starts", Ints{-1, 3}}, {"ends", Ints{INT64_MIN, 3}}, {"steps", Ints{-1, 2}}}});
  check_adjoint({"Pad", {{3, 4}}, {{"pads", Ints{1, 0, 2, 3}}}});
  check_adjoint({"Pad", {{3, 4}}, {{"pads", Ints{-1, 2, 1, -2}}}});  // crop and pad
  check_adjoint({"Concat", {{2, 3}, {2, 1}, {2, 2}}, {{"axis", int64_t{-1}}}});
  check_adjoint({"Split", {{6, 2}}, {}, 3});
  check_adjoint({"Split", {{2, 5}}, {{"axis", int64_t{1}}, {"split", Ints{1, 4}}}, 2, {1}});  // output 0 unused
  check_adjoint({"Expand", {{3, 1}}, {{"shape", Ints{2, 3, 4}}}});
}

TEST(MovementGrad, HandComputed) {
  // Slice x[1:3] of [5]: the gradient scatters R into positions 1 and 2.
  std::vector<Tensor> d = check_adjoint({"Slice", {{5}}, {{"starts", Ints{1}}, {"ends", Ints{3}}}});
  const Tensor r = random_tensor({2}, 100);
  EXPECT_EQ(values<float>(d[0]), (std::vector<float>{0, r.data<float>()[0], r.data<float>()[1], 0, 0}));
  // Expand [2,1] -> [2,3]: the gradient sums each row of R.
  d = check_adjoint({"Expand", {{2, 1}}, {{"shape", Ints{2, 3}}}});
  const Tensor r2 = random_tensor({2, 3}, 100);
  const float* rp = r2.data<float>();
  EXPECT_NEAR(d[0].data<float>()[0], rp[0] + rp[1] + rp[2], 1e-6);
  EXPECT_NEAR(d[0].data<float>()[1], rp[3] + rp[4] + rp[5], 1e-6);
}

TEST(MovementGrad, UnsupportedCasesSayWhy) {
  EXPECT_THROW(check_adjoint({"Pad", {{3}}, {{"pads", Ints{1, 1}}, {"mode", std::string("edge")}}}), Error);
}

}  // namespace
