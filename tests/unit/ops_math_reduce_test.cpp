// Reductions, Softmax/LogSoftmax and LayerNormalization against naive float64 reference loops
// written here, with attribute edge cases (negative axes, keepdims = 0, noop_with_empty_axes),
// numerically hard inputs, symbolic shape inference and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "support/error.h"
#include "op_test_util.h"
#include "ops_math_test_util.h"

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

// Reference layer norm over dims [axis, rank): rows x D, with scale/bias broadcast to dims[axis:].
void naive_layer_norm(const Tensor& x, const Tensor& scale, const Tensor* bias, int64_t axis, double eps,
                      std::vector<double>* y, std::vector<double>* mean, std::vector<double>* inv) {
  const Dims norm(x.dims().begin() + axis, x.dims().end());
  const int64_t d = numel(norm), rows = numel(x.dims()) / d;
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (int64_t j = 0; j < d; ++j) m += x.data<float>()[r * d + j];
    m /= d;
    for (int64_t j = 0; j < d; ++j) v += std::pow(x.data<float>()[r * d + j] - m, 2);
    const double is = 1 / std::sqrt(v / d + eps);
    for (int64_t j = 0; j < d; ++j) {
      const Dims idx = unravel(j, norm);
      double s = scale.data<float>()[broadcast_index(idx, scale.dims())];
      double b = bias ? bias->data<float>()[broadcast_index(idx, bias->dims())] : 0.0;
      y->push_back((x.data<float>()[r * d + j] - m) * is * s + b);
    }
    mean->push_back(m);
    inv->push_back(is);
  }
}

TEST(MathLayerNorm, MatchesReferenceWithStatsOutputs) {
  struct Case {
    Dims x, scale, bias;  // empty bias dims with has_bias = false: no B
    int64_t axis;
    bool has_bias;
    float eps;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4}, {4}, {4}, -1, true, 1e-5f},     {{2, 3, 4}, {3, 4}, {3, 4}, 1, true, 1e-5f},
      {{2, 3, 4}, {4}, {1, 4}, -2, true, 1e-3f},  {{2, 3, 4}, {2, 3, 4}, {}, 0, false, 1e-5f},
      {{4, 768}, {768}, {768}, -1, true, 1e-5f},  {{6, 5}, {1}, {}, -1, false, 1e-5f},
  };
  uint32_t seed = 51;
  for (const Case& c : cases) {
    SCOPED_TRACE("axis " + std::to_string(c.axis) + " x " + to_string(ir::TensorType::concrete(ir::DType::F32, c.x)));
    // An offset mean makes the one-pass variance formula lose digits; the two-pass one does not.
    Tensor x = random_f32(c.x, seed++, 100, 102);
    Tensor scale = random_f32(c.scale, seed++, 0.5f, 2);
    Tensor bias = c.has_bias ? random_f32(c.bias, seed++) : Tensor();
    std::vector<double> y, mean, inv;
    const int64_t axis = c.axis < 0 ? c.axis + int64_t(c.x.size()) : c.axis;
    naive_layer_norm(x, scale, c.has_bias ? &bias : nullptr, axis, c.eps, &y, &mean, &inv);
    std::vector<Tensor> ins{x, scale};
    if (c.has_bias) ins.push_back(bias);
    test::OpRun r = test::run_op("LayerNormalization", ins, {{"axis", c.axis}, {"epsilon", c.eps}}, 3, {}, 2);
    Dims stat(c.x.begin(), c.x.begin() + axis);
    stat.resize(c.x.size(), 1);
    expect_values<float>(r.outputs[0], c.x, y, 1e-6, 1e-6);
    expect_values<float>(r.outputs[1], stat, mean, 6e-8);
    expect_values<float>(r.outputs[2], stat, inv, 1e-6);
    EXPECT_EQ(r.inferred[1], ir::TensorType::concrete(ir::DType::F32, stat));
  }
}

TEST(MathLayerNorm, SymbolicShapesAndErrors) {
  auto t = infer_types("LayerNormalization", {f32({N(), K(3), K(4)}), f32({K(4)}), f32({K(4)})}, {}, 3);
  EXPECT_EQ(to_string(t[0]), "f32[N,3,4]");
  EXPECT_EQ(to_string(t[1]), "f32[N,3,1]");
  EXPECT_EQ(to_string(t[2]), "f32[N,3,1]");
  t = infer_types("LayerNormalization", {f32({N(), K(3), K(4)}), f32({K(3), K(4)})}, {{"axis", int64_t{1}}}, 1);
  EXPECT_EQ(to_string(t[0]), "f32[N,3,4]");
  // Scale that does not match the normalised shape, or would grow it.
  EXPECT_THROW(infer_types("LayerNormalization", {f32({N(), K(3), K(4)}), f32({K(3)})}), Error);
  EXPECT_THROW(infer_types("LayerNormalization", {f32({N(), K(4)}), f32({K(2), K(4)})}), Error);
  EXPECT_THROW(infer_types("LayerNormalization", {f32({N(), K(4)}), f32({K(4)})}, {{"axis", int64_t{2}}}), Error);
  EXPECT_THROW(infer_types("LayerNormalization", {f32({N(), K(4)})}), Error);  // Scale is required
}

}  // namespace
