// Broadcasting elementwise ops against a naive multi-index reference loop written here: every
// broadcast pattern the kernel's fast paths distinguish, integer semantics, comparisons, variadic
// ops, Where, symbolic shape inference, cost, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "ir/shape_util.h"
#include "op_test_util.h"
#include "ops_math_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

using Dims = std::vector<int64_t>;

// Reference: out[i] = f(a[bcast(i)], b[bcast(i)]) over the broadcast shape, in double.
std::vector<double> naive_binary(const Tensor& a, const Tensor& b, const Dims& out,
                                 const std::function<double(double, double)>& f) {
  std::vector<double> r;
  for (int64_t i = 0; i < numel(out); ++i) {
    Dims idx = unravel(i, out);
    r.push_back(f(a.data<float>()[broadcast_index(idx, a.dims())], b.data<float>()[broadcast_index(idx, b.dims())]));
  }
  return r;
}

struct Shapes {
  Dims a, b, out;
};

// Same shape, scalar (rank 0), [1], trailing and inner broadcasts, both sides broadcast,
// per-channel bias, and a case above the parallel threshold.
std::vector<Shapes> broadcast_shapes() {
  return {
      {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}},   {{2, 3, 4}, {3, 1}, {2, 3, 4}},   {{2, 3, 4}, {}, {2, 3, 4}},
      {{}, {2, 3, 4}, {2, 3, 4}},          {{1}, {2, 3}, {2, 3}},            {{}, {}, {}},
      {{4, 1}, {1, 5}, {4, 5}},            {{2, 3, 4, 5}, {3, 1, 1}, {2, 3, 4, 5}},
      {{2, 1, 4}, {2, 3, 1}, {2, 3, 4}},   {{1, 3, 1}, {2, 1, 4}, {2, 3, 4}},
      {{3, 40000}, {40000}, {3, 40000}},   {{20000, 2}, {20000, 1}, {20000, 2}},
  };
}

struct BinaryCase {
  const char* op;
  std::function<double(double, double)> ref;
  float lo = -3, hi = 3;
};

TEST(MathBinary, FloatOpsMatchNaiveBroadcastEverywhere) {
  const std::vector<BinaryCase> cases = {
      {"Add", [](double a, double b) { return a + b; }},
      {"Sub", [](double a, double b) { return a - b; }},
      {"Mul", [](double a, double b) { return a * b; }},
      {"Div", [](double a, double b) { return a / b; }},
      {"Pow", [](double a, double b) { return std::pow(a, b); }, 0.1f, 3},
  };
  uint32_t seed = 11;
  for (const BinaryCase& c : cases)
    for (const Shapes& s : broadcast_shapes()) {
      SCOPED_TRACE(std::string(c.op) + " " + to_string(ir::TensorType::concrete(ir::DType::F32, s.a)) + " with " +
                   to_string(ir::TensorType::concrete(ir::DType::F32, s.b)));
      Tensor a = random_f32(s.a, seed++, c.lo, c.hi), b = random_f32(s.b, seed++, c.lo, c.hi);
      test::OpRun r = test::run_op(c.op, {a, b}, {}, 1, {}, /*threads=*/2);
      // One rounding of the exact result (Pow: double pow, then one rounding).
      expect_values<float>(r.outputs[0], s.out, naive_binary(a, b, s.out, c.ref), 6e-8, 1e-37);
      EXPECT_EQ(r.inferred[0], ir::TensorType::concrete(ir::DType::F32, s.out));
    }
}

TEST(MathBinary, IntegerArithmeticTruncatesTowardZero) {
  Tensor a = Tensor::from_vector<int64_t>({2, 3}, {7, -7, 7, -7, 6, 0});
  Tensor b = Tensor::from_vector<int64_t>({3}, {2, 2, -2});
  auto run = [&](const char* op) { return test::values<int64_t>(test::run_op(op, {a, b}).outputs[0]); };
  EXPECT_EQ(run("Div"), (std::vector<int64_t>{3, -3, -3, -3, 3, 0}));
  EXPECT_EQ(run("Add"), (std::vector<int64_t>{9, -5, 5, -5, 8, -2}));
  EXPECT_EQ(run("Sub"), (std::vector<int64_t>{5, -9, 9, -9, 4, 2}));
  EXPECT_EQ(run("Mul"), (std::vector<int64_t>{14, -14, -14, -14, 12, 0}));
  EXPECT_EQ(test::run_op("Div", {a, b}).inferred[0].dtype, ir::DType::I64);
  // Integer division by zero is a reported error, not a crash.
  EXPECT_THROW(test::run_op("Div", {a, Tensor::from_vector<int64_t>({1}, {0})}), Error);
  // Large values stay exact (no detour through float).
  const int64_t big = (int64_t{1} << 53) + 1;
  EXPECT_EQ(test::values<int64_t>(
                test::run_op("Add", {Tensor::scalar<int64_t>(big), Tensor::scalar<int64_t>(2)}).outputs[0]),
            (std::vector<int64_t>{big + 2}));
}

TEST(MathBinary, PowWithIntegerExponentAndFloatEdgeCases) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {-2, 3, 0.5f, -1.5f});
  Tensor e = Tensor::from_vector<int64_t>({2}, {2, 3});
  test::OpRun r = test::run_op("Pow", {x, e});
  expect_values<float>(r.outputs[0], {2, 2}, {4, 27, 0.25, -3.375});
  const double inf = std::numeric_limits<double>::infinity();
  Tensor a = Tensor::from_vector<float>({4}, {1, -1, 0, 0});
  Tensor b = Tensor::from_vector<float>({4}, {0, 0, 0, -1});
  expect_values<float>(test::run_op("Div", {a, b}).outputs[0], {4}, {inf, -inf, std::nan(""), -0.0});
}

TEST(MathBinary, ComparisonsGiveBool) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, std::nanf(""), 6});
  Tensor b = Tensor::from_vector<float>({3}, {2, 2, 2});
  auto run = [&](const char* op) { return test::values<bool>(test::run_op(op, {a, b}).outputs[0]); };
  EXPECT_EQ(run("Equal"), (std::vector<bool>{false, true, false, false, false, false}));
  EXPECT_EQ(run("Less"), (std::vector<bool>{true, false, false, false, false, false}));
  EXPECT_EQ(run("Greater"), (std::vector<bool>{false, false, true, true, false, true}));
  EXPECT_EQ(test::run_op("Less", {a, b}).inferred[0], ir::TensorType::concrete(ir::DType::Bool, {2, 3}));
  Tensor i = Tensor::from_vector<int64_t>({3}, {1, 5, -2});
  EXPECT_EQ(test::values<bool>(test::run_op("Equal", {i, Tensor::scalar<int64_t>(5)}).outputs[0]),
            (std::vector<bool>{false, true, false}));
  Tensor t = bools({2}, {true, false});
  EXPECT_EQ(test::values<bool>(test::run_op("Equal", {t, bools({1}, {false})}).outputs[0]),
            (std::vector<bool>{false, true}));
}

TEST(MathBinary, VariadicOpsBroadcastAllInputs) {
  // [2,1], [3], [] -> [2,3]; the first pair's broadcast [2,3] is already the output shape.
  Tensor a = Tensor::from_vector<float>({2, 1}, {1, -4});
  Tensor b = Tensor::from_vector<float>({3}, {0, 2, std::nanf("")});
  Tensor c = Tensor::scalar<float>(0.5f);
  const double nan = std::nan("");
  expect_values<float>(test::run_op("Max", {a, b, c}).outputs[0], {2, 3}, {1, 2, nan, 0.5, 2, nan});
  expect_values<float>(test::run_op("Min", {a, b, c}).outputs[0], {2, 3}, {0, 0.5, nan, -4, -4, nan});
  expect_values<float>(test::run_op("Sum", {a, b, c}).outputs[0], {2, 3}, {1.5, 3.5, nan, -3.5, -1.5, nan});
  expect_values<float>(test::run_op("Mean", {a, b, c}).outputs[0], {2, 3},
                       {1.5 / 3, 3.5 / 3, nan, -3.5 / 3, -1.5 / 3, nan});
  // The first input is smaller than the output: [] then [2,1] then [3].
  expect_values<float>(test::run_op("Sum", {c, a, b}).outputs[0], {2, 3}, {1.5, 3.5, nan, -3.5, -1.5, nan});
  // One input: a copy.
  expect_values<float>(test::run_op("Max", {a}).outputs[0], {2, 1}, {1, -4});
  // Integers.
  Tensor i = Tensor::from_vector<int64_t>({3}, {1, 9, -3});
  Tensor j = Tensor::from_vector<int64_t>({3}, {4, 2, -8});
  EXPECT_EQ(test::values<int64_t>(test::run_op("Max", {i, j}).outputs[0]), (std::vector<int64_t>{4, 9, -3}));
  EXPECT_EQ(test::values<int64_t>(test::run_op("Sum", {i, j, i}).outputs[0]), (std::vector<int64_t>{6, 20, -14}));
}

TEST(MathBinary, VariadicMatchesNaiveOnLargeInputs) {
  Tensor a = random_f32({4, 1, 9000}, 21), b = random_f32({3, 1}, 22), c = random_f32({9000}, 23);
  const Dims out{4, 3, 9000};
  std::vector<double> ab = naive_binary(a, b, out, [](double x, double y) { return double(float(x + y)); });
  std::vector<double> want;
  for (int64_t k = 0; k < numel(out); ++k) want.push_back(double(float(ab[k] + c.data<float>()[k % 9000])));
  expect_values<float>(test::run_op("Sum", {a, b, c}, {}, 1, {}, 2).outputs[0], out, want, 0, 0);
}

TEST(MathBinary, WhereBroadcastsConditionAndBranches) {
  Tensor cond = bools({2, 1}, {true, false});
  Tensor x = Tensor::from_vector<float>({3}, {1, 2, 3});
  Tensor y = Tensor::scalar<float>(-1.0f);
  test::OpRun r = test::run_op("Where", {cond, x, y});
  expect_values<float>(r.outputs[0], {2, 3}, {1, 2, 3, -1, -1, -1});
  // Same-shape fast path, with i64 branches.
  Tensor c2 = bools({4}, {true, false, false, true});
  Tensor xi = Tensor::from_vector<int64_t>({4}, {1, 2, 3, 4});
  Tensor yi = Tensor::from_vector<int64_t>({4}, {-1, -2, -3, -4});
  EXPECT_EQ(test::values<int64_t>(test::run_op("Where", {c2, xi, yi}).outputs[0]),
            (std::vector<int64_t>{1, -2, -3, 4}));
  EXPECT_THROW(test::run_op("Where", {x, x, y}), Error);              // condition must be bool
  EXPECT_THROW(test::run_op("Where", {cond, x, Tensor::scalar<int64_t>(1)}), Error);  // branch types differ
}

TEST(MathBinary, SymbolicShapeInference) {
  using ir::DType;
  EXPECT_EQ(to_string(infer_types("Add", {f32({N(), K(3), K(4)}), f32({K(3), K(1)})})[0]), "f32[N,3,4]");
  EXPECT_EQ(to_string(infer_types("Mul", {f32({N(), K(1)}), f32({K(1), K(5)})})[0]), "f32[N,5]");
  EXPECT_EQ(to_string(infer_types("Sub", {f32({}), f32({N(), K(2)})})[0]), "f32[N,2]");
  EXPECT_EQ(to_string(infer_types("Greater", {f32({N(), K(2)}), f32({K(2)})})[0]), "bool[N,2]");
  EXPECT_EQ(to_string(infer_types("Sum", {f32({N(), K(1)}), f32({K(3)}), f32({N(), K(3)})})[0]), "f32[N,3]");
  EXPECT_EQ(to_string(infer_types("Where", {ir::TensorType(DType::Bool, {N(), K(1)}), f32({K(4)}), f32({})})[0]),
            "f32[N,4]");
  EXPECT_EQ(to_string(infer_types("Pow", {f32({N()}), ir::TensorType(DType::I64, {})})[0]), "f32[N]");
}

TEST(MathBinary, ErrorsNameTheNode) {
  // Incompatible broadcast, at compile time (symbolic) and at run time (concrete).
  EXPECT_THROW(infer_types("Add", {f32({N(), K(3)}), f32({K(4)})}), Error);
  try {
    test::run_op("Add", {random_f32({2, 3}, 1), random_f32({4}, 2)});
    FAIL() << "expected fc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Add node 'test_Add'"), std::string::npos) << e.what();
  }
  // Mixed element types.
  EXPECT_THROW(test::run_op("Add", {random_f32({2}, 1), Tensor::from_vector<int64_t>({2}, {1, 2})}), Error);
  EXPECT_THROW(infer_types("Less", {ir::TensorType(ir::DType::Bool, {}), ir::TensorType(ir::DType::Bool, {})}), Error);
  EXPECT_THROW(infer_types("Add", {f32({K(2)})}), Error);  // too few inputs
}

TEST(MathBinary, CostCountsElementsAndBytes) {
  ir::Graph g;
  ir::Value* a = g.add_value("a", ir::TensorType::concrete(ir::DType::F32, {2, 3}));
  ir::Value* b = g.add_value("b", ir::TensorType::concrete(ir::DType::F32, {3}));
  ir::Value* y = g.add_value("y", {});
  ir::Node* n = g.add_node("Add", {a, b}, {y});
  ir::infer_graph_types(g);
  ir::OpCost c = ir::op_cost(*n, {a->type, b->type}, {nullptr, nullptr}, {y->type});
  EXPECT_EQ(c.flops, 6);
  EXPECT_EQ(c.bytes, (6 + 3 + 6) * 4);
}

}  // namespace
