// Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout (inference): output shapes (concrete
// and symbolic), that the outputs really are views of the input's storage, and errors.
#include <gtest/gtest.h>

#include <cstring>

#include "ops_movement_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test;
using namespace fc::test::movement;

namespace {

// Runs a view op and checks: the output has `dims`, the same elements in the same order, and
// shares the input's storage.
void expect_view(const std::string& op, const Tensor& x, std::map<std::string, Attribute> attrs, const Dims& dims) {
  SCOPED_TRACE(op);
  Tensor y = run1(op, {x}, std::move(attrs));
  EXPECT_EQ(y.dims(), dims);
  EXPECT_EQ(y.dtype(), x.dtype());
  EXPECT_TRUE(y.same_storage(x));
  ASSERT_EQ(y.nbytes(), x.nbytes());
  EXPECT_EQ(std::memcmp(y.raw(), x.raw(), x.nbytes()), 0);
}

TEST(MovementReshape, ZeroCopiesAndMinusOneInfers) {
  Tensor x = iota<float>({2, 3, 4});
  expect_view("Reshape", x, {{"shape", Ints{0, -1}}}, {2, 12});
  expect_view("Reshape", x, {{"shape", Ints{-1}}}, {24});
  expect_view("Reshape", x, {{"shape", Ints{4, 0, 2}}}, {4, 3, 2});
  expect_view("Reshape", x, {{"shape", Ints{2, -1, 1, 3}}}, {2, 4, 1, 3});
  expect_view("Reshape", iota<int64_t>({6}), {{"shape", Ints{3, 2}}}, {3, 2});
  expect_view("Reshape", iota<float>({1}), {{"shape", Ints{}}}, {});           // to a scalar
  expect_view("Reshape", iota<float>({0, 4}), {{"shape", Ints{0, 2, 2}}}, {0, 2, 2});
  expect_view("Reshape", iota<float>({0, 4}), {{"shape", Ints{-1, 2}}}, {0, 2});
}

TEST(MovementReshape, SymbolicShapes) {
  EXPECT_EQ(inferred("Reshape", {f32({N(), K(512), K(1), K(1)})}, {{"shape", Ints{0, -1}}}), "f32[N,512]");
  EXPECT_EQ(inferred("Reshape", {f32({N(), K(1), K(1)})}, {{"shape", Ints{-1}}}), "f32[N]");
  EXPECT_EQ(inferred("Reshape", {f32({N(), K(3), K(4)})}, {{"shape", Ints{3, -1, 4}}}), "f32[3,N,4]");
  EXPECT_EQ(inferred("Reshape", {f32({N(), K(12)})}, {{"shape", Ints{0, 3, 4}}}), "f32[N,3,4]");
  EXPECT_EQ(inferred("Reshape", {f32({N(), K(4)})}, {{"shape", Ints{-1, 2}}}), "f32[?,2]");
  EXPECT_EQ(inferred("Reshape", {f32({N(), K(4)})}, {{"shape", Ints{2, 2, -1}}}), "f32[2,2,N]");
}

TEST(MovementReshape, Errors) {
  Tensor x = iota<float>({2, 3});
  EXPECT_THROW(run1("Reshape", {x}, {{"shape", Ints{4, 2}}}), Error);        // 6 elements vs 8
  EXPECT_THROW(run1("Reshape", {x}, {{"shape", Ints{-1, -1}}}), Error);      // two -1s
  EXPECT_THROW(run1("Reshape", {x}, {{"shape", Ints{4, -1}}}), Error);       // 6 not divisible by 4
  EXPECT_THROW(run1("Reshape", {x}, {{"shape", Ints{0, 0, 0}}}), Error);     // 0 past the input rank
  EXPECT_THROW(run1("Reshape", {x}, {{"shape", Ints{-2, 3}}}), Error);
  EXPECT_THROW(run1("Reshape", {x}, {{"shape", Ints{2, 0}}, {"allowzero", int64_t{1}}}), Error);  // 0 is a size: 6 vs 0
  EXPECT_THROW(run1("Reshape", {x}), Error);                                 // shape is required
  EXPECT_THROW(run1("Reshape", {iota<float>({0, 3})}, {{"shape", Ints{0, -1}}}), Error);  // -1 with 0 elements
  EXPECT_THROW(inferred("Reshape", {f32({N(), K(3)})}, {{"shape", Ints{-1, -1}}}), Error);
}

TEST(MovementFlatten, Axes) {
  Tensor x = iota<float>({2, 3, 4});
  expect_view("Flatten", x, {}, {2, 12});  // default axis 1
  expect_view("Flatten", x, {{"axis", int64_t{0}}}, {1, 24});
  expect_view("Flatten", x, {{"axis", int64_t{3}}}, {24, 1});
  expect_view("Flatten", x, {{"axis", int64_t{-1}}}, {6, 4});
  expect_view("Flatten", x, {{"axis", int64_t{-3}}}, {1, 24});
  expect_view("Flatten", iota<int64_t>({5}), {{"axis", int64_t{1}}}, {5, 1});
  EXPECT_THROW(run1("Flatten", {x}, {{"axis", int64_t{4}}}), Error);
  EXPECT_THROW(run1("Flatten", {x}, {{"axis", int64_t{-4}}}), Error);
  EXPECT_EQ(inferred("Flatten", {f32({N(), K(3), K(4), K(5)})}), "f32[N,60]");
  EXPECT_EQ(inferred("Flatten", {f32({N(), K(1), K(1)})}, {{"axis", int64_t{0}}}), "f32[1,N]");
  EXPECT_EQ(inferred("Flatten", {f32({N(), K(3)})}, {{"axis", int64_t{0}}}), "f32[1,?]");
  EXPECT_EQ(inferred("Flatten", {f32({K(2), K(3), N()})}, {{"axis", int64_t{2}}}), "f32[6,N]");
}

TEST(MovementSqueeze, AxesAndAll) {
  Tensor x = iota<float>({1, 3, 1, 2});
  expect_view("Squeeze", x, {}, {3, 2});
  expect_view("Squeeze", x, {{"axes", Ints{0}}}, {3, 1, 2});
  expect_view("Squeeze", x, {{"axes", Ints{-2, 0}}}, {3, 2});
  expect_view("Squeeze", iota<int64_t>({1}), {}, {});
  EXPECT_THROW(run1("Squeeze", {x}, {{"axes", Ints{1}}}), Error);     // size 3
  EXPECT_THROW(run1("Squeeze", {x}, {{"axes", Ints{4}}}), Error);     // out of range
  EXPECT_THROW(run1("Squeeze", {x}, {{"axes", Ints{0, -4}}}), Error); // twice
  EXPECT_EQ(inferred("Squeeze", {f32({N(), K(1), K(5)})}), "f32[N,5]");
  EXPECT_EQ(inferred("Squeeze", {f32({N(), K(1), K(1)})}, {{"axes", Ints{-1}}}), "f32[N,1]");
  EXPECT_EQ(inferred("Squeeze", {f32({N(), K(1)})}, {{"axes", Ints{0}}}), "f32[1]");  // N checked at run time
}

TEST(MovementUnsqueeze, AxesAreOutputPositions) {
  Tensor x = iota<float>({2, 3});
  expect_view("Unsqueeze", x, {{"axes", Ints{0}}}, {1, 2, 3});
  expect_view("Unsqueeze", x, {{"axes", Ints{0, 3}}}, {1, 2, 3, 1});
  expect_view("Unsqueeze", x, {{"axes", Ints{-1}}}, {2, 3, 1});
  expect_view("Unsqueeze", x, {{"axes", Ints{-1, 1}}}, {2, 1, 3, 1});
  expect_view("Unsqueeze", x, {{"axes", Ints{1, 2}}}, {2, 1, 1, 3});
  expect_view("Unsqueeze", Tensor::scalar<int64_t>(7), {{"axes", Ints{0}}}, {1});
  EXPECT_THROW(run1("Unsqueeze", {x}, {{"axes", Ints{3}}}), Error);
  EXPECT_THROW(run1("Unsqueeze", {x}, {{"axes", Ints{1, -3}}}), Error);  // both are output axis 1
  EXPECT_THROW(run1("Unsqueeze", {x}), Error);                          // axes are required
  EXPECT_EQ(inferred("Unsqueeze", {f32({N(), K(4)})}, {{"axes", Ints{-1, 1}}}), "f32[N,1,4,1]");
}

TEST(MovementIdentity, SharesStorageForAnyType) {
  expect_view("Identity", iota<float>({2, 2}), {}, {2, 2});
  expect_view("Identity", iota<int64_t>({3}), {}, {3});
  expect_view("Identity", math::bools({2}, {true, false}), {}, {2});
  expect_view("Identity", iota<float>({0}), {}, {0});
}

TEST(MovementDropout, InferenceIsIdentityWithTrueMask) {
  Tensor x = iota<float>({2, 3}, -3);
  expect_view("Dropout", x, {{"ratio", 0.25f}}, {2, 3});
  OpRun r = run_op("Dropout", {x}, {{"ratio", 0.5f}, {"training_mode", int64_t{0}}}, 2);
  EXPECT_TRUE(r.outputs[0].same_storage(x));
  expect_tensor<bool>(r.outputs[1], {2, 3}, std::vector<bool>(6, true));
  EXPECT_EQ(ir::to_string(r.inferred[1]), "bool[2,3]");
  // training_mode=1 drops (OnnxTrainingDropout in narrow_types_test.cpp), on f32 data only.
  EXPECT_THROW(run1("Dropout", {Tensor::from_vector<int64_t>({1}, {1})}, {{"training_mode", int64_t{1}}}), Error);
  EXPECT_THROW(run1("Dropout", {x}, {{"ratio", 1.0f}}), Error);
  EXPECT_EQ(ir::to_string(infer_types("Dropout", {f32({N(), K(3)})}, {}, 2).at(1)), "bool[N,3]");
}

}  // namespace
