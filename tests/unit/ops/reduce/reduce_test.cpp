// The reductions against naive float64 reference loops written here, with attribute edge cases
// (negative axes, keepdims = 0, noop_with_empty_axes), correctly rounded means, NaN propagation,
// thread-count independence, symbolic shape inference and errors.
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

// Reference reduction: every input element goes to the output index with reduced coords zeroed.
std::vector<double> naive_reduce(const std::string& op, const Tensor& x, const std::vector<bool>& mask, Dims* out) {
  Dims kept;
  for (size_t d = 0; d < x.rank(); ++d) kept.push_back(mask[d] ? 1 : x.dim(d));
  const double inf = std::numeric_limits<double>::infinity();
  const double init = op == "ReduceMax" ? -inf : op == "ReduceMin" ? inf : 0.0;
  std::vector<double> acc(numel(kept), init);
  std::vector<int64_t> count(numel(kept), 0);
  for (int64_t i = 0; i < numel(x.dims()); ++i) {
    const int64_t o = broadcast_index(unravel(i, x.dims()), kept);
    const double v = x.data<float>()[i];
    if (op == "ReduceMax") acc[o] = std::max(acc[o], v);
    else if (op == "ReduceMin") acc[o] = std::min(acc[o], v);
    else acc[o] += v;
    ++count[o];
  }
  if (op == "ReduceMean")
    for (size_t o = 0; o < acc.size(); ++o) acc[o] /= double(count[o]);
  *out = kept;
  return acc;
}

struct ReduceCase {
  Dims x;
  std::map<std::string, Attribute> attrs;
  std::vector<bool> mask;
  Dims out;
};

std::vector<ReduceCase> reduce_cases() {
  return {
      {{2, 3, 4}, {{"axes", Ints{1}}}, {false, true, false}, {2, 1, 4}},
      {{2, 3, 4}, {{"axes", Ints{0, 2}}}, {true, false, true}, {1, 3, 1}},
      {{2, 3, 4}, {{"axes", Ints{-1}}, {"keepdims", int64_t{0}}}, {false, false, true}, {2, 3}},
      {{2, 3, 4}, {{"axes", Ints{-3, -2}}, {"keepdims", int64_t{0}}}, {true, true, false}, {4}},
      {{2, 3, 4}, {}, {true, true, true}, {1, 1, 1}},                                 // absent axes: all
      {{2, 3, 4}, {{"keepdims", int64_t{0}}}, {true, true, true}, {}},                // to a scalar
      {{2, 3, 4}, {{"noop_with_empty_axes", int64_t{1}}}, {false, false, false}, {2, 3, 4}},  // identity
      {{3, 1, 4}, {{"axes", Ints{1}}}, {false, true, false}, {3, 1, 4}},              // size-1 axis
      {{2, 3, 4, 5}, {{"axes", Ints{1, 3}}}, {false, true, false, true}, {2, 1, 4, 1}},  // alternating
      {{5000, 7}, {{"axes", Ints{0}}}, {true, false}, {1, 7}},                         // lanes, parallel
      {{7, 9000}, {{"axes", Ints{1}}}, {false, true}, {7, 1}},                         // rows
      {{300, 3, 200}, {{"axes", Ints{0, 2}}}, {true, false, true}, {1, 3, 1}},         // BN-like stats
      {{}, {}, {}, {}},                                                                 // rank 0
  };
}

TEST(MathReduce, EveryReductionMatchesNaiveReference) {
  uint32_t seed = 31;
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"})
    for (const ReduceCase& c : reduce_cases()) {
      SCOPED_TRACE(std::string(op) + " of " + to_string(ir::TensorType::concrete(ir::DType::F32, c.x)));
      Tensor x = random_f32(c.x, seed++);
      Dims kept;
      std::vector<double> want = naive_reduce(op, x, c.mask, &kept);
      ASSERT_EQ(numel(kept), numel(c.out));
      test::OpRun r = test::run_op(op, {x}, c.attrs, 1, {}, /*threads=*/2);
      // Accumulated in double: one rounding of the exact result.
      expect_values<float>(r.outputs[0], c.out, want, 6e-8, 1e-37);
      EXPECT_EQ(r.inferred[0], ir::TensorType::concrete(ir::DType::F32, c.out));
    }
}

TEST(MathReduce, MeanOfManyFloatsIsCorrectlyRounded) {
  // 1e6 copies of 0.1f: a float accumulator drifts far; a double one gives the float nearest 0.1f.
  Tensor x(ir::DType::F32, {1000000});
  std::fill(x.data<float>(), x.data<float>() + x.numel(), 0.1f);
  test::OpRun r = test::run_op("ReduceMean", {x}, {{"keepdims", int64_t{0}}});
  EXPECT_EQ(r.outputs[0].data<float>()[0], 0.1f);
}

// Work is split in fixed-size pieces, so the thread count never changes a bit of the result.
TEST(MathReduce, ResultsDoNotDependOnThreadCount) {
  Tensor x = random_f32({64, 3, 700}, 61);
  const std::vector<std::pair<std::string, std::map<std::string, Attribute>>> runs = {
      {"ReduceMean", {{"axes", Ints{0, 2}}}}, {"ReduceSum", {}}, {"Softmax", {{"axis", int64_t{1}}}},
      {"LayerNormalization", {}}};
  for (const auto& [op, attrs] : runs) {
    SCOPED_TRACE(op);
    std::vector<Tensor> ins{x};
    if (op == "LayerNormalization") ins.push_back(random_f32({700}, 62));
    std::vector<float> one = test::values<float>(test::run_op(op, ins, attrs, 1, {}, 1).outputs[0]);
    std::vector<float> two = test::values<float>(test::run_op(op, ins, attrs, 1, {}, 2).outputs[0]);
    EXPECT_EQ(one, two);
  }
}

TEST(MathReduce, NanPropagatesThroughMaxAndMin) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, std::nanf(""), 3, 4});
  const double nan = std::nan("");
  expect_values<float>(test::run_op("ReduceMax", {x}, {{"axes", Ints{1}}}).outputs[0], {2, 1}, {nan, 4});
  expect_values<float>(test::run_op("ReduceMin", {x}, {{"axes", Ints{0}}}).outputs[0], {1, 2}, {1, nan});
}

TEST(MathReduce, SymbolicShapesAndErrors) {
  EXPECT_EQ(to_string(infer_types("ReduceMean", {f32({N(), K(3), K(4)})}, {{"axes", Ints{2}}, {"keepdims", int64_t{0}}})[0]),
            "f32[N,3]");
  EXPECT_EQ(to_string(infer_types("ReduceSum", {f32({N(), K(3), K(4)})}, {{"axes", Ints{0}}})[0]), "f32[1,3,4]");
  EXPECT_EQ(to_string(infer_types("ReduceMax", {f32({N(), K(3)})}, {{"axes", Ints{-1}}})[0]), "f32[N,1]");
  EXPECT_EQ(to_string(infer_types("ReduceMin", {f32({N(), K(3)})}, {{"keepdims", int64_t{0}}})[0]), "f32[]");
  EXPECT_EQ(to_string(infer_types("ReduceSum", {f32({N(), K(3)})}, {{"noop_with_empty_axes", int64_t{1}}})[0]),
            "f32[N,3]");
  EXPECT_THROW(infer_types("ReduceSum", {f32({N(), K(3)})}, {{"axes", Ints{2}}}), Error);      // out of range
  EXPECT_THROW(infer_types("ReduceSum", {f32({N(), K(3)})}, {{"axes", Ints{1, -1}}}), Error);  // repeated
  EXPECT_THROW(infer_types("ReduceSum", {ir::TensorType(ir::DType::Bool, {N()})}), Error);  // bool: max/min only
  EXPECT_THROW(infer_types("ReduceMax", {ir::TensorType(ir::DType::F8E4M3FN, {N()})}), Error);
  EXPECT_EQ(to_string(infer_types("ReduceMin", {ir::TensorType(ir::DType::Bool, {N(), K(2)})})[0]), "bool[1,1]");
}

}  // namespace
