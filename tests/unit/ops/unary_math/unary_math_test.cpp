// Unary elementwise ops and activations against float64 references written out here (std:: math in
// a naive loop, or hand values), attribute edge cases, element types and symbolic shape inference.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "op_test_util.h"
#include "ops_math_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Attribute;
using fc::ir::Tensor;

namespace {

struct UnaryCase {
  const char* op;
  std::map<std::string, Attribute> attrs;
  std::function<double(double)> ref;
  float lo = -6.0f, hi = 6.0f;  // input range
};

std::vector<UnaryCase> unary_cases() {
  const double selu_a = 1.6732632423543772848170429916717, selu_g = 1.0507009873554804934193349852946;
  return {
      {"LeakyRelu", {}, [](double x) { return x < 0 ? double(0.01f) * x : x; }},
      {"LeakyRelu", {{"alpha", 0.3f}}, [](double x) { return x < 0 ? double(0.3f) * x : x; }},
      {"Sigmoid", {}, [](double x) { return std::exp(x) / (1 + std::exp(x)); }, -30, 30},
      {"Tanh", {}, [](double x) { return std::tanh(x); }},
      {"HardSigmoid", {}, [](double x) { return std::fmin(1.0, std::fmax(0.0, double(0.2f) * x + 0.5)); }},
      {"HardSigmoid", {{"alpha", 0.5f}, {"beta", 0.25f}}, [](double x) { return std::fmin(1.0, std::fmax(0.0, 0.5 * x + 0.25)); }},
      // PyTorch's definition: x * relu6(x + 3) / 6.
      {"HardSwish", {}, [](double x) { return x * std::fmin(6.0, std::fmax(0.0, x + 3)) / 6; }},
      {"Erf", {}, [](double x) { return std::erf(x); }, -4, 4},
      {"Gelu", {}, [](double x) { return x * 0.5 * std::erfc(-x / std::sqrt(2.0)); }, -8, 8},
      {"Gelu", {{"approximate", std::string("tanh")}},
       // 0.5 x (1 + tanh z) without cancelling for large negative x: x / (1 + e^(-2z)).
       [](double x) { return x / (1 + std::exp(-2 * std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }, -8, 8},
      {"Sqrt", {}, [](double x) { return std::sqrt(x); }, 0, 100},
      {"Exp", {}, [](double x) { return std::exp(x); }, -80, 80},
      {"Log", {}, [](double x) { return std::log(x); }, 1e-6f, 1e6f},
      {"Neg", {}, [](double x) { return -x; }},
      {"Abs", {}, [](double x) { return std::fabs(x); }},
      {"Reciprocal", {}, [](double x) { return 1 / x; }},
      {"Floor", {}, [](double x) { return std::floor(x); }},
      {"Ceil", {}, [](double x) { return std::ceil(x); }},
      {"Softplus", {}, [](double x) { return std::log1p(std::exp(x)); }, -20, 20},
      {"Elu", {}, [](double x) { return x > 0 ? x : std::exp(x) - 1; }},
      {"Elu", {{"alpha", 0.5f}}, [](double x) { return x > 0 ? x : 0.5 * (std::exp(x) - 1); }},
      {"Selu", {}, [selu_a, selu_g](double x) { return selu_g * (x > 0 ? x : selu_a * (std::exp(x) - 1)); }},
  };
}

// Results are computed in double and rounded once: within ~1 ulp of the float64 value.
TEST(MathUnary, EveryOpMatchesFloat64Reference) {
  uint32_t seed = 1;
  for (const UnaryCase& c : unary_cases()) {
    SCOPED_TRACE(c.op);
    Tensor x = random_f32({3, 5, 7}, seed++, c.lo, c.hi);
    x.data<float>()[0] = 0.0f;  // the kink of most activations
    std::vector<double> want;
    for (size_t i = 0; i < x.numel(); ++i) want.push_back(c.ref(x.data<float>()[i]));
    test::OpRun r = test::run_op(c.op, {x}, c.attrs);
    expect_values<float>(r.outputs[0], {3, 5, 7}, want, 1.2e-7, 1e-37);
    EXPECT_EQ(r.inferred[0], x.type());
  }
}

TEST(MathUnary, HandValuesAndExtremes) {
  auto run1 = [](const char* op, std::vector<float> xs) {
    const int64_t n = static_cast<int64_t>(xs.size());
    return test::values<float>(test::run_op(op, {Tensor::from_vector<float>({n}, xs)}).outputs[0]);
  };
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(run1("Sigmoid", {0, -200, 200}), (std::vector<float>{0.5f, 0.0f, 1.0f}));
  EXPECT_EQ(run1("Tanh", {0, -50, 50}), (std::vector<float>{0, -1, 1}));
  EXPECT_EQ(run1("Softplus", {100, -200}), (std::vector<float>{100, 0}));  // no overflow to inf
  EXPECT_EQ(run1("HardSwish", {-3, 3, 1}), (std::vector<float>{0, 3, float(1.0 * 4 / 6)}));
  EXPECT_EQ(run1("HardSigmoid", {-3, 3, 0}), (std::vector<float>{0, 1, 0.5f}));
  EXPECT_EQ(run1("Exp", {100, -200}), (std::vector<float>{inf, 0}));
  EXPECT_EQ(run1("Log", {0, 1}), (std::vector<float>{-inf, 0}));
  EXPECT_TRUE(std::isnan(run1("Log", {-1})[0]));
  EXPECT_EQ(run1("Reciprocal", {0, 4}), (std::vector<float>{inf, 0.25f}));
  EXPECT_EQ(run1("Floor", {-1.5f, 2.5f}), (std::vector<float>{-2, 2}));
  EXPECT_EQ(run1("Ceil", {-1.5f, 2.5f}), (std::vector<float>{-1, 3}));
  EXPECT_EQ(run1("Erf", {0, 10}), (std::vector<float>{0, 1}));
  EXPECT_FALSE(std::signbit(run1("Abs", {-0.0f})[0]));
}

TEST(MathUnary, ClipBounds) {
  Tensor x = Tensor::from_vector<float>({6}, {-5, -1, 0, 1, 5, std::nanf("")});
  auto clip = [&](std::map<std::string, Attribute> a) { return test::run_op("Clip", {x}, a).outputs[0]; };
  const double nan = std::nan("");
  expect_values<float>(clip({{"min", -2.0f}, {"max", 2.0f}}), {6}, {-2, -1, 0, 1, 2, nan});
  expect_values<float>(clip({{"min", -2.0f}}), {6}, {-2, -1, 0, 1, 5, nan});
  expect_values<float>(clip({{"max", 0.5f}}), {6}, {-5, -1, 0, 0.5, 0.5, nan});
  expect_values<float>(clip({}), {6}, {-5, -1, 0, 1, 5, nan});
  expect_values<float>(clip({{"min", 2.0f}, {"max", 1.0f}}), {6}, {1, 1, 1, 1, 1, nan});  // min > max: max wins
}

TEST(MathUnary, IntegerAndBoolOps) {
  Tensor i = Tensor::from_vector<int64_t>({2, 2}, {-3, 0, 7, std::numeric_limits<int64_t>::min() + 1});
  test::OpRun neg = test::run_op("Neg", {i});
  EXPECT_EQ(test::values<int64_t>(neg.outputs[0]),
            (std::vector<int64_t>{3, 0, -7, std::numeric_limits<int64_t>::max()}));
  EXPECT_EQ(neg.inferred[0].dtype, ir::DType::I64);
  EXPECT_EQ(test::values<int64_t>(test::run_op("Abs", {i}).outputs[0]),
            (std::vector<int64_t>{3, 0, 7, std::numeric_limits<int64_t>::max()}));
  Tensor b = bools({3}, {true, false, true});
  EXPECT_EQ(test::values<bool>(test::run_op("Not", {b}).outputs[0]), (std::vector<bool>{false, true, false}));
}

TEST(MathUnary, LargeInputUsesThreadsAndMatches) {
  Tensor x = random_f32({70001}, 7);
  std::vector<double> want;
  for (size_t i = 0; i < x.numel(); ++i) want.push_back(std::tanh(double(x.data<float>()[i])));
  test::OpRun r = test::run_op("Tanh", {x}, {}, 1, {}, /*threads=*/2);
  expect_values<float>(r.outputs[0], {70001}, want, 1.2e-7, 1e-37);
}

TEST(MathUnary, SymbolicShapesAndErrors) {
  EXPECT_EQ(infer_types("Sigmoid", {f32({N(), K(3)})})[0], f32({N(), K(3)}));
  EXPECT_EQ(to_string(infer_types("Clip", {f32({N(), K(2), K(2)})}, {{"min", 0.0f}})[0]), "f32[N,2,2]");
  // Wrong element types are rejected at compile time, naming the node.
  EXPECT_THROW(infer_types("Sigmoid", {ir::TensorType(ir::DType::I64, {N()})}), Error);
  EXPECT_THROW(infer_types("Not", {f32({N()})}), Error);
  // An attribute of the wrong kind.
  EXPECT_THROW(infer_types("LeakyRelu", {f32({N()})}, {{"alpha", std::string("x")}}), Error);
  try {
    test::run_op("Exp", {Tensor::from_vector<int64_t>({1}, {1})});
    FAIL() << "expected fc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Exp node 'test_Exp'"), std::string::npos) << e.what();
  }
}

}  // namespace
