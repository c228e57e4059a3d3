// Gather, Cast, ConstantOfShape, Shape, Size and Range: values against hand-computed
// expectations (numpy's results for the conversions), shapes known at compile time only from
// parameter values, outputs re-sized when input values change at run time, and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops_movement_test_util.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test;
using namespace fc::test::movement;

namespace {

// ---- Gather ----

TEST(MovementGather, AxesIndicesAndTypes) {
  Tensor data = iota<float>({3, 4});
  // Axis 0, 2-D indices with a negative entry: y[i, j, :] = data[idx[i, j], :].
  Tensor idx = Tensor::from_vector<int64_t>({2, 2}, {2, 0, -1, 1});
  expect_tensor<float>(run1("Gather", {data, idx}), {2, 2, 4},
                       {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7});
  // Axis 1 (negative spelling), i32 indices: y[r, k] = data[r, idx[k]].
  Tensor idx32 = Tensor::from_vector<int32_t>({3}, {3, -4, 3});
  expect_tensor<float>(run1("Gather", {data, idx32}, {{"axis", int64_t{-1}}}), {3, 3}, {3, 0, 3, 7, 4, 7, 11, 8, 11});
  // A scalar index drops the axis; i64 data.
  expect_tensor<int64_t>(run1("Gather", {iota<int64_t>({2, 3}, 10), Tensor::scalar<int64_t>(1)}, {{"axis", int64_t{1}}}),
                         {2}, {11, 14});
  expect_tensor<int64_t>(run1("Gather", {iota<int64_t>({4}), Tensor::scalar<int64_t>(-1)}), {}, {3});
  // Empty indices.
  expect_tensor<float>(run1("Gather", {data, Tensor(DType::I64, {0})}), {0, 4}, {});
}

TEST(MovementGather, ShapesAndErrors) {
  TensorType idx(DType::I64, {K(5), K(2)});
  EXPECT_EQ(ir::to_string(infer_types("Gather", {f32({N(), K(3), K(4)}), idx}, {{"axis", int64_t{1}}}).at(0)),
            "f32[N,5,2,4]");
  // Gather from a parameter (an embedding table) by an index input with a batch dim.
  OpRun r = run_op("Gather", {iota<float>({10, 2}), Tensor::from_vector<int64_t>({3}, {9, 0, 4})}, {}, 1, {true, false});
  EXPECT_EQ(ir::to_string(r.inferred[0]), "f32[3,2]");
  expect_tensor<float>(r.outputs[0], {3, 2}, {18, 19, 0, 1, 8, 9});
  Tensor data = iota<float>({3, 4});
  EXPECT_THROW(run1("Gather", {data, Tensor::scalar<int64_t>(3)}), Error);
  EXPECT_THROW(run1("Gather", {data, Tensor::scalar<int64_t>(-4)}), Error);
  EXPECT_THROW(run1("Gather", {data, Tensor::scalar<float>(0)}), Error);
  EXPECT_THROW(run1("Gather", {data, Tensor::scalar<int64_t>(0)}, {{"axis", int64_t{2}}}), Error);
}

// ---- Cast ----

Tensor cast(const Tensor& x, const char* to) { return run1("Cast", {x}, {{"to", std::string(to)}}); }

TEST(MovementCast, FloatToIntegerTruncatesLikeNumpy) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Tensor::from_vector<float>({6}, {2.7f, -2.7f, 0.5f, -0.0f, 1e30f, nan});
  const int64_t min64 = std::numeric_limits<int64_t>::min();
  expect_tensor<int64_t>(cast(x, "i64"), {6}, {2, -2, 0, 0, min64, min64});
  const int32_t min32 = std::numeric_limits<int32_t>::min();
  expect_tensor<int32_t>(cast(x, "i32"), {6}, {2, -2, 0, 0, min32, min32});
  // u8/i8 wrap through int64 (numpy: 300.0 -> 44, -1.0 -> 255, NaN -> 0).
  expect_tensor<uint8_t>(cast(Tensor::from_vector<float>({4}, {300.0f, -1.0f, 255.9f, nan}), "u8"), {4},
                         {44, 255, 255, 0});
  expect_tensor<int8_t>(cast(Tensor::from_vector<double>({3}, {200.0, -129.0, -3.9}), "i8"), {3}, {-56, 127, -3});
}

TEST(MovementCast, OtherConversions) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  expect_tensor<bool>(cast(Tensor::from_vector<float>({4}, {0.0f, -0.5f, nan, -0.0f}), "bool"), {4},
                      {false, true, true, false});
  expect_tensor<bool>(cast(Tensor::from_vector<int64_t>({3}, {0, 7, -1}), "bool"), {3}, {false, true, true});
  expect_tensor<float>(cast(math::bools({2}, {true, false}), "f32"), {2}, {1.0f, 0.0f});
  expect_tensor<float>(cast(Tensor::from_vector<int64_t>({2}, {-3, (int64_t{1} << 40) + 1}), "f32"), {2},
                       {-3.0f, 1099511627776.0f});
  expect_tensor<float>(cast(Tensor::from_vector<double>({2}, {0.1, 1e300}), "f32"), {2},
                       {0.1f, std::numeric_limits<float>::infinity()});
  expect_tensor<double>(cast(Tensor::from_vector<float>({1}, {0.1f}), "f64"), {1}, {double(0.1f)});
  expect_tensor<int32_t>(cast(Tensor::from_vector<int64_t>({2}, {(int64_t{1} << 32) + 5, -1}), "i32"), {2}, {5, -1});
  expect_tensor<int64_t>(cast(Tensor::from_vector<uint8_t>({2}, {255, 0}), "i64"), {2}, {255, 0});
  // Same type: a copy of the values.
  Tensor same = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor y = cast(same, "f32");
  expect_tensor<float>(y, {2, 2}, {1, 2, 3, 4});
  // Large inputs take the parallel path.
  Tensor big = iota<int64_t>({100000}, -50000);
  Tensor yb = cast(big, "f64");
  for (int64_t i = 0; i < 100000; i += 997) ASSERT_EQ(yb.data<double>()[i], double(i - 50000));
}

TEST(MovementCast, ShapesAndErrors) {
  EXPECT_EQ(inferred("Cast", {f32({N(), K(3)})}, {{"to", std::string("i64")}}), "i64[N,3]");
  Tensor x = iota<float>({2});
  EXPECT_THROW(cast(x, "float32"), Error);
  EXPECT_THROW(run1("Cast", {x}), Error);
  EXPECT_THROW(run1("Cast", {x}, {{"to", int64_t{7}}}), Error);  // ONNX's enum is converted by the frontend
}

// ---- Shape, Size ----

TEST(MovementShape, StartEndAndSize) {
  Tensor x = iota<float>({2, 3, 4, 5});
  expect_tensor<int64_t>(run1("Shape", {x}), {4}, {2, 3, 4, 5});
  expect_tensor<int64_t>(run1("Shape", {x}, {{"start", int64_t{1}}, {"end", int64_t{-1}}}), {2}, {3, 4});
  expect_tensor<int64_t>(run1("Shape", {x}, {{"start", int64_t{-10}}, {"end", int64_t{10}}}), {4}, {2, 3, 4, 5});
  expect_tensor<int64_t>(run1("Shape", {x}, {{"start", int64_t{3}}, {"end", int64_t{1}}}), {0}, {});
  expect_tensor<int64_t>(run1("Shape", {Tensor::scalar<float>(1)}), {0}, {});
  EXPECT_EQ(inferred("Shape", {f32({N(), K(3)})}), "i64[2]");
  EXPECT_EQ(inferred("Shape", {f32({N(), K(3), K(2)})}, {{"start", int64_t{-1}}}), "i64[1]");
  expect_tensor<int64_t>(run1("Size", {x}), {}, {120});
  expect_tensor<int64_t>(run1("Size", {iota<int64_t>({3, 0})}), {}, {0});
  EXPECT_EQ(inferred("Size", {f32({N(), K(3)})}), "i64[]");
}

// ---- ConstantOfShape, Range ----

TEST(MovementConstantOfShape, ValuesAndShapes) {
  Tensor shape = Tensor::from_vector<int64_t>({2}, {2, 3});
  expect_tensor<float>(run1("ConstantOfShape", {shape}), {2, 3}, std::vector<float>(6, 0.0f));
  OpRun r = run_op("ConstantOfShape", {shape}, {{"value", Tensor::from_vector<int64_t>({1}, {7})}}, 1, {true});
  EXPECT_EQ(ir::to_string(r.inferred[0]), "i64[2,3]");  // known from the parameter value
  expect_tensor<int64_t>(r.outputs[0], {2, 3}, std::vector<int64_t>(6, 7));
  r = run_op("ConstantOfShape", {shape}, {{"value", Tensor::from_vector<float>({1}, {1.5f})}});
  EXPECT_EQ(ir::to_string(r.inferred[0]), "f32[?,?]");  // an input: only the rank is known
  expect_tensor<float>(r.outputs[0], {2, 3}, std::vector<float>(6, 1.5f));
  expect_tensor<float>(run1("ConstantOfShape", {Tensor(DType::I64, {0})}), {}, {0.0f});
  EXPECT_THROW(run1("ConstantOfShape", {Tensor::from_vector<int64_t>({1}, {-2})}), Error);
  EXPECT_THROW(run1("ConstantOfShape", {Tensor::from_vector<int32_t>({1}, {2})}), Error);
  EXPECT_THROW(run1("ConstantOfShape", {shape}, {{"value", Tensor::from_vector<float>({2}, {1, 2})}}), Error);
}

TEST(MovementRange, IntegerAndFloat) {
  auto range = [](Tensor s, Tensor l, Tensor d) { return run1("Range", {s, l, d}); };
  using S = Tensor;
  expect_tensor<int64_t>(range(S::scalar<int64_t>(2), S::scalar<int64_t>(9), S::scalar<int64_t>(3)), {3}, {2, 5, 8});
  expect_tensor<int64_t>(range(S::scalar<int64_t>(5), S::scalar<int64_t>(-1), S::scalar<int64_t>(-2)), {3}, {5, 3, 1});
  expect_tensor<int64_t>(range(S::scalar<int64_t>(5), S::scalar<int64_t>(5), S::scalar<int64_t>(1)), {0}, {});
  expect_tensor<int64_t>(range(S::scalar<int64_t>(5), S::scalar<int64_t>(9), S::scalar<int64_t>(-1)), {0}, {});
  expect_tensor<int32_t>(range(S::scalar<int32_t>(0), S::scalar<int32_t>(4), S::scalar<int32_t>(1)), {4}, {0, 1, 2, 3});
  expect_tensor<float>(range(S::scalar<float>(1.0f), S::scalar<float>(2.0f), S::scalar<float>(0.25f)), {4},
                       {1.0f, 1.25f, 1.5f, 1.75f});
  expect_tensor<double>(range(S::scalar<double>(0.5), S::scalar<double>(-1.0), S::scalar<double>(-0.5)), {3},
                        {0.5, 0.0, -0.5});
  EXPECT_THROW(range(S::scalar<int64_t>(0), S::scalar<int64_t>(4), S::scalar<int64_t>(0)), Error);
  EXPECT_THROW(range(S::scalar<int64_t>(0), S::scalar<float>(4), S::scalar<int64_t>(1)), Error);
  EXPECT_THROW(range(S::scalar<uint8_t>(0), S::scalar<uint8_t>(4), S::scalar<uint8_t>(1)), Error);
}

TEST(MovementRange, ShapeKnownOnlyFromParams) {
  std::vector<Tensor> in{Tensor::scalar<int64_t>(0), Tensor::scalar<int64_t>(10), Tensor::scalar<int64_t>(4)};
  EXPECT_EQ(ir::to_string(run_op("Range", in, {}, 1, {true, true, true}).inferred[0]), "i64[3]");
  EXPECT_EQ(ir::to_string(run_op("Range", in, {}, 1, {true, false, true}).inferred[0]), "i64[?]");
}

// A Constant node's value is as known as a parameter's: graph-wide type inference (which the
// importer runs last and passes run after rewrites) sizes Range from it. PyTorch 2.x's export of
// as_strided computes its Gather indices so; unknown sizes there left a Reshape without a gradient.
TEST(MovementRange, ShapeKnownFromConstantNodes) {
  ir::Graph g;
  std::vector<ir::Value*> ins;
  for (int64_t v : {2, 11, 3}) {
    ir::Value* c = g.add_value("c" + std::to_string(v), {});
    g.add_node("Constant", {}, {c}, {{"value", Tensor::scalar<int64_t>(v)}});
    ins.push_back(c);
  }
  ir::Value* y = g.add_value("y", {});
  g.add_node("Range", ins, {y});
  g.outputs = {y};
  ir::infer_graph_types(g);
  EXPECT_EQ(ir::to_string(y->type), "i64[3]");
}

// The executor rebuilds kernels only when input shapes change; value-shaped outputs must follow
// the values anyway.
TEST(MovementRange, OutputFollowsValuesAcrossRuns) {
  ir::Graph g;
  ir::Value* lim = g.add_value("limit", TensorType(DType::I64, {}));
  g.inputs = {lim};
  ir::Value* start = g.add_param("start", Tensor::scalar<int64_t>(0));
  ir::Value* delta = g.add_param("delta", Tensor::scalar<int64_t>(1));
  ir::Value* y = g.add_value("y", {});
  ir::Value* shape = g.add_value("shape", {});
  ir::Value* z = g.add_value("z", {});
  g.add_node("Range", {start, lim, delta}, {y});
  g.add_node("Shape", {y}, {shape});
  g.add_node("ConstantOfShape", {shape}, {z});
  g.outputs = {y, z};
  ir::infer_graph_types(g);
  EXPECT_EQ(ir::to_string(z->type), "f32[?]");
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  auto out = ex.run({{"limit", Tensor::scalar<int64_t>(3)}});
  expect_tensor<int64_t>(out.at("y"), {3}, {0, 1, 2});
  EXPECT_EQ(out.at("z").dims(), (Dims{3}));
  out = ex.run({{"limit", Tensor::scalar<int64_t>(5)}});
  expect_tensor<int64_t>(out.at("y"), {5}, {0, 1, 2, 3, 4});
  EXPECT_EQ(out.at("z").dims(), (Dims{5}));
}

}  // namespace
