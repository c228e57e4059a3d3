// The reductions' gradient kernels (fc.ReduceSumGrad, fc.ReduceMeanGrad, fc.ReduceSelectGrad)
// against naive float64 loops, broadcasting back over every axis pattern, the first-extremum tie
// rule, and the threaded paths against one thread.
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

// Output flat index of x's element `idx` for a reduction over `mask` (keepdims or not: same order).
int64_t reduced_index(const Ints& idx, const Ints& dims, const std::vector<bool>& mask) {
  int64_t o = 0;
  for (size_t d = 0; d < dims.size(); ++d)
    if (!mask[d]) o = o * dims[d] + idx[d];
  return o;
}

struct ReduceCase {
  Ints dims;
  std::optional<Ints> axes;
  int64_t keepdims;
};

std::vector<bool> mask_of(const ReduceCase& c) {
  std::vector<bool> m(c.dims.size(), !c.axes || c.axes->empty());
  if (c.axes)
    for (int64_t a : *c.axes) m[a < 0 ? a + int64_t(c.dims.size()) : a] = true;
  return m;
}

Attrs reduce_attrs(const ReduceCase& c) {
  Attrs at{{"keepdims", c.keepdims}};
  if (c.axes) at["axes"] = *c.axes;
  return at;
}

std::vector<ReduceCase> reduce_cases() {
  return {{{2, 3, 4}, Ints{1}, 1},   {{2, 3, 4}, Ints{-1}, 0},      {{2, 3, 4}, Ints{0, 2}, 0},
          {{2, 3, 4}, std::nullopt, 1}, {{5, 1, 300}, Ints{0}, 0}, {{2, 3, 1, 5}, Ints{-2, 1}, 1},
          {{3, 7}, Ints{}, 0}};
}

TEST(MathGrad, ReduceSumAndMeanGradsBroadcastBack) {
  uint32_t seed = 20;
  for (const ReduceCase& c : reduce_cases()) {
    SCOPED_TRACE(::testing::Message() << "dims " << c.dims.size() << " keepdims " << c.keepdims);
    const Tensor x = random_f32(c.dims, seed++);
    const Tensor y = test::run_op_outputs("ReduceSum", "", {x}, reduce_attrs(c))[0];  // for dy's shape
    const Tensor dy = random_f32(y.dims(), seed++);
    const std::vector<bool> mask = mask_of(c);
    int64_t count = 1;
    for (size_t d = 0; d < c.dims.size(); ++d) count *= mask[d] ? c.dims[d] : 1;
    const Tensor ds = test::run_op_outputs("ReduceSumGrad", "fc", {dy, x}, reduce_attrs(c))[0];
    const Tensor dm = test::run_op_outputs("ReduceMeanGrad", "fc", {dy, x}, reduce_attrs(c))[0];
    std::vector<double> want_s(x.numel()), want_m(x.numel());
    for (size_t i = 0; i < x.numel(); ++i) {
      const float g = dy.data<float>()[reduced_index(unravel(int64_t(i), c.dims), c.dims, mask)];
      want_s[i] = g;
      want_m[i] = g / float(count);  // PyTorch's grad / N, in float
    }
    expect_values<float>(ds, c.dims, want_s, 0);
    expect_values<float>(dm, c.dims, want_m, 0);
  }
}

// Ties: the gradient goes to the first maximal element in row-major order of the reduced axes.
TEST(MathGrad, ReduceSelectGradPicksFirstExtremum) {
  for (const ReduceCase& c : reduce_cases()) {
    Tensor x = random_f32(c.dims, 30);
    for (size_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::round(x.data<float>()[i]);  // many ties
    const std::vector<bool> mask = mask_of(c);
    for (const char* fwd : {"ReduceMax", "ReduceMin"}) {
      SCOPED_TRACE(fwd);
      const Tensor y = test::run_op_outputs(fwd, "", {x}, reduce_attrs(c))[0];
      const Tensor dy = random_f32(y.dims(), 31);
      const Tensor dx = test::run_op_outputs("ReduceSelectGrad", "fc", {dy, x, y}, reduce_attrs(c))[0];
      std::vector<double> want(x.numel(), 0.0);
      std::vector<bool> taken(y.numel(), false);
      for (size_t i = 0; i < x.numel(); ++i) {  // row-major walk: the first hit per output wins
        const int64_t o = reduced_index(unravel(int64_t(i), c.dims), c.dims, mask);
        if (!taken[o] && x.data<float>()[i] == y.data<float>()[o]) {
          want[i] = dy.data<float>()[o];
          taken[o] = true;
        }
      }
      expect_values<float>(dx, c.dims, want, 0);
    }
  }
}

TEST(MathGrad, ReduceGradsOnLargeInputsUseThreadsAndMatch) {
  const ReduceCase c{{40, 33, 50}, Ints{1}, 0};
  const Tensor x = random_f32(c.dims, 40);
  const Tensor y = test::run_op_outputs("ReduceMax", "", {x}, reduce_attrs(c))[0];
  const Tensor dy = random_f32(y.dims(), 41);
  for (const char* op : {"ReduceSumGrad", "ReduceMeanGrad", "ReduceSelectGrad"}) {
    std::vector<Tensor> in{dy, x};
    if (std::string(op) == "ReduceSelectGrad") in.push_back(y);
    const Tensor one = test::run_op_outputs(op, "fc", in, reduce_attrs(c), 1, 1)[0];
    const Tensor four = test::run_op_outputs(op, "fc", in, reduce_attrs(c), 1, 4)[0];
    EXPECT_EQ(0, std::memcmp(one.raw(), four.raw(), one.nbytes())) << op;
  }
}

TEST(MathGrad, ReduceMaxSendsTiesToTheFirstElement) {
  const Tensor x = from({2, 3}, {2, 7, 7, 5, 5, 1});
  const auto g = test::seeded_vjp("ReduceMax", {x}, from({2}, {1, 2}), {{"axes", Ints{1}}, {"keepdims", int64_t{0}}});
  EXPECT_EQ(test::values<float>(g[0]), (std::vector<float>{0, 1, 0, 2, 0, 0}));
}

}  // namespace
