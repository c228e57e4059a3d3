// The activation and Pow gradient kernels (fc.*Grad of ir/ops/elementwise_grads.cpp) against naive
// float64 loops written here, boundary values where PyTorch's formulas pick a side, the threaded
// paths against one thread, and the ops that have no gradient rule. (Finite-difference checks of
// every gradient rule are in each op's grad_cases.cpp.)
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

// ---- activation gradients ----

struct ActCase {
  const char* op;
  Attrs attrs;
  std::function<double(double dy, double s)> ref;  // s: the saved x or y
  float lo, hi;                                    // range of s
  std::vector<float> edges;                        // boundary values of s checked exactly
};

std::vector<ActCase> act_cases() {
  const double sixth = double(1.0f / 6.0f);
  return {
      {"ReluGrad", {}, [](double g, double y) { return y > 0 ? g : 0; }, 0, 3, {0.0f, 1e-30f}},
      {"LeakyReluGrad", {{"alpha", 0.2f}}, [](double g, double x) { return x > 0 ? g : double(0.2f) * g; }, -3, 3,
       {0.0f, -0.0f, 1e-30f}},
      {"ClipGrad", {{"min", -1.0f}, {"max", 0.5f}}, [](double g, double x) { return x >= -1 && x <= 0.5 ? g : 0; },
       -2, 2, {-1.0f, 0.5f, std::nextafter(-1.0f, -2.0f), std::nextafter(0.5f, 1.0f), NAN}},
      {"ClipGrad", {{"max", 0.0f}}, [](double g, double x) { return x <= 0 ? g : 0; }, -2, 2, {0.0f, 1e-30f}},
      {"SigmoidGrad", {}, [](double g, double y) { return g * y * (1 - y); }, 0, 1, {0.0f, 1.0f}},
      {"TanhGrad", {}, [](double g, double y) { return g * (1 - y * y); }, -1, 1, {-1.0f, 1.0f}},
      // alpha = 1/6 as PyTorch's hardsigmoid: zero at x = +-3 (PyTorch tests -3 < x < 3 strictly).
      {"HardSigmoidGrad", {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}},
       [sixth](double g, double x) { return x > -3 && x < 3 ? sixth * g : 0; }, -4, 4, {-3.0f, 3.0f, 2.999f, -2.999f}},
      {"HardSigmoidGrad", {}, [](double g, double x) { return x > -2.5 && x < 2.5 ? double(0.2f) * g : 0; }, -4, 4,
       {-2.5f, 2.5f}},
      {"HardSwishGrad", {}, [](double g, double x) { return x < -3 ? 0 : x <= 3 ? g * (x / 3 + 0.5) : g; }, -5, 5,
       {-3.0f, 3.0f, std::nextafter(-3.0f, -4.0f), std::nextafter(3.0f, 4.0f)}},
      {"ErfGrad", {}, [](double g, double x) { return g * 2 / std::sqrt(M_PI) * std::exp(-x * x); }, -4, 4, {0.0f}},
      {"GeluGrad", {},
       [](double g, double x) {
         return g * (0.5 * std::erfc(-x / std::sqrt(2.0)) + x * std::exp(-x * x / 2) / std::sqrt(2 * M_PI));
       },
       -6, 6, {0.0f}},
      {"SqrtGrad", {}, [](double g, double y) { return g / (2 * y); }, 0.01f, 10, {}},
      {"AbsGrad", {}, [](double g, double x) { return x > 0 ? g : x < 0 ? -g : 0; }, -3, 3, {0.0f, -0.0f}},
      {"ReciprocalGrad", {}, [](double g, double y) { return -g * y * y; }, -5, 5, {}},
      {"SoftplusGrad", {}, [](double g, double x) { return g / (1 + std::exp(-x)); }, -30, 30, {0.0f, 100.0f, -100.0f}},
      {"EluGrad", {{"alpha", 0.5f}}, [](double g, double x) { return x > 0 ? g : 0.5 * std::exp(x) * g; }, -4, 4,
       {0.0f}},
      {"EluGrad", {{"alpha", 1.6732632f}, {"gamma", 1.0507010f}},
       [](double g, double x) { return double(1.0507010f) * (x > 0 ? g : double(1.6732632f) * std::exp(x) * g); }, -4,
       4, {0.0f}},
  };
}

// Float formulas round ~3 times (PyTorch's order, PyTorch's error); double ones once.
TEST(MathGrad, ActivationGradsMatchFloat64Reference) {
  uint32_t seed = 11;
  for (const ActCase& c : act_cases()) {
    SCOPED_TRACE(c.op);
    Tensor s = random_f32({4, 33}, seed++, c.lo, c.hi);
    for (size_t i = 0; i < c.edges.size(); ++i) s.data<float>()[i] = c.edges[i];
    const Tensor dy = random_f32({4, 33}, seed++);
    const Tensor dx = test::run_op_outputs(c.op, "fc", {dy, s}, c.attrs)[0];
    std::vector<double> want(dx.numel());
    for (size_t i = 0; i < want.size(); ++i) want[i] = c.ref(dy.data<float>()[i], s.data<float>()[i]);
    expect_values<float>(dx, {4, 33}, want, 4e-7, 1e-37);
  }
}

TEST(MathGrad, ActivationGradsOnLargeInputsUseThreadsAndMatch) {
  const Tensor dy = random_f32({300, 301}, 3), x = random_f32({300, 301}, 4);
  for (const char* op : {"ReluGrad", "HardSwishGrad", "EluGrad"}) {
    const Tensor one = test::run_op_outputs(op, "fc", {dy, x}, {}, 1, 1)[0];
    const Tensor four = test::run_op_outputs(op, "fc", {dy, x}, {}, 1, 4)[0];
    EXPECT_EQ(0, std::memcmp(one.raw(), four.raw(), one.nbytes())) << op;
  }
}

TEST(MathGrad, ActivationGradRejectsMismatchedInputs) {
  EXPECT_THROW(test::run_op_outputs("ReluGrad", "fc", {random_f32({2, 3}, 1), random_f32({6}, 2)}), Error);
}

// ---- Pow ----

TEST(MathGrad, PowGradsBroadcastAndMatchReference) {
  const Ints out{2, 3, 4};
  Tensor a = random_f32({3, 1}, 5, 0.2f, 3.0f);
  Tensor b = random_f32({4}, 6, -2.0f, 2.0f);
  a.data<float>()[0] = 0.0f;  // 0^b: flat in b for b >= 0 (PyTorch's rule), b * 0^(b-1) in a
  b.data<float>()[0] = 0.0f;  // b = 0: zero base gradient, also at a = 0
  b.data<float>()[1] = 2.0f;
  const Tensor dy = random_f32(out, 7);
  const Tensor da = test::run_op_outputs("PowGradBase", "fc", {dy, a, b})[0];
  const Tensor db = test::run_op_outputs("PowGradExponent", "fc", {dy, a, b})[0];
  std::vector<double> want_a(numel(out)), want_b(numel(out));
  for (int64_t i = 0; i < numel(out); ++i) {
    const Ints idx = unravel(i, out);
    const double g = dy.data<float>()[i], av = a.data<float>()[broadcast_index(idx, {3, 1})],
                 bv = b.data<float>()[broadcast_index(idx, {4})];
    want_a[i] = bv == 0 ? 0 : g * bv * std::pow(av, bv - 1);
    want_b[i] = (av == 0 && bv >= 0) ? 0 : g * std::pow(av, bv) * std::log(av);
  }
  expect_values<float>(da, out, want_a, 2e-7);
  expect_values<float>(db, out, want_b, 2e-7);
  // An integer exponent.
  const Tensor bi = Tensor::from_vector<int64_t>({4}, {3, 0, -2, 1});
  const Tensor dai = test::run_op_outputs("PowGradBase", "fc", {dy, a, bi})[0];
  for (int64_t i = 0; i < numel(out); ++i) {
    const Ints idx = unravel(i, out);
    const double av = a.data<float>()[broadcast_index(idx, {3, 1})];
    const double bv = double(bi.data<int64_t>()[idx[2]]);
    want_a[i] = bv == 0 ? 0 : dy.data<float>()[i] * bv * std::pow(av, bv - 1);
  }
  expect_values<float>(dai, out, want_a, 2e-7);
}

// ---- reductions ----

// ---- Softmax / LogSoftmax ----

// ---- LayerNormalization ----

// ---- tie rules through autodiff ----

TEST(MathGrad, NonDifferentiableOpsHaveNoRule) {
  for (const char* op : {"Floor", "Ceil", "Equal", "Less", "Greater", "Not"}) {
    const ir::OpSchema* s = ir::OpRegistry::global().find(op);
    ASSERT_TRUE(s) << op;
    EXPECT_FALSE(s->gradient) << op;
  }
}

}  // namespace
