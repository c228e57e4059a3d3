// Softmax's and LogSoftmax's gradient kernels (fc.SoftmaxGrad, fc.LogSoftmaxGrad) against float64
// references written here, and their threaded paths against one thread.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Attribute;
using fc::ir::Tensor;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

TEST(MathGrad, SoftmaxGradsMatchReference) {
  const Ints dims{2, 3, 5};
  uint32_t seed = 50;
  for (int64_t axis : {1, -1, 0}) {
    const int64_t ax = axis < 0 ? axis + 3 : axis;
    const Tensor x = random_f32(dims, seed++);
    const Tensor dy = random_f32(dims, seed++);
    for (bool log : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "axis " << axis << (log ? " LogSoftmax" : " Softmax"));
      const Tensor y = test::run_op_outputs(log ? "LogSoftmax" : "Softmax", "", {x}, {{"axis", axis}})[0];
      const Tensor dx = test::run_op_outputs(log ? "LogSoftmaxGrad" : "SoftmaxGrad", "fc", {dy, y}, {{"axis", axis}})[0];
      std::vector<double> want(dx.numel());
      for (int64_t i = 0; i < numel(dims); ++i) {
        Ints idx = unravel(i, dims);
        double s = 0;  // over the axis through element i
        for (int64_t k = 0; k < dims[ax]; ++k) {
          idx[ax] = k;
          int64_t j = 0;
          for (size_t d = 0; d < 3; ++d) j = j * dims[d] + idx[d];
          s += log ? double(dy.data<float>()[j]) : double(dy.data<float>()[j]) * y.data<float>()[j];
        }
        const double g = dy.data<float>()[i], yv = y.data<float>()[i];
        want[i] = log ? g - std::exp(yv) * s : yv * (g - s);
      }
      expect_values<float>(dx, dims, want, 2e-7, 1e-8);
    }
  }
}

TEST(MathGrad, SoftmaxGradsOnLargeInputsUseThreadsAndMatch) {
  const Ints dims{64, 40, 30};
  const Tensor y = test::run_op_outputs("Softmax", "", {random_f32(dims, 60)}, {{"axis", int64_t{1}}})[0];
  const Tensor dy = random_f32(dims, 61);
  for (const char* op : {"SoftmaxGrad", "LogSoftmaxGrad"}) {
    const Tensor one = test::run_op_outputs(op, "fc", {dy, y}, {{"axis", int64_t{1}}}, 1, 1)[0];
    const Tensor four = test::run_op_outputs(op, "fc", {dy, y}, {{"axis", int64_t{1}}}, 1, 4)[0];
    EXPECT_EQ(0, std::memcmp(one.raw(), four.raw(), one.nbytes())) << op;
  }
}

}  // namespace
