// f16/bf16/float8/int4 through the paths a user's tensors take: Cast (saturate included), the
// ONNX TensorProto files of `fcrun infer` (int4 packed two per byte), .npy, and the text IR.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "frontend/tensor_proto_file.h"
#include "support/error.h"
#include "ir/text_format.h"
#include "ops_movement_test_util.h"
#include "runtime/npy.h"

namespace fc::test::movement {
namespace {

Tensor cast_to(const Tensor& x, const char* to, std::optional<int64_t> saturate = std::nullopt) {
  std::map<std::string, ir::Attribute> attrs{{"to", std::string(to)}};
  if (saturate) attrs["saturate"] = *saturate;
  return run1("Cast", {x}, attrs);
}

std::vector<uint8_t> bytes_of(const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.raw());
  return {p, p + t.nbytes()};
}

TEST(NarrowTypes, CastThroughEveryNarrowType) {
  Tensor x = Tensor::from_vector<float>({5}, {1.0f, -2.5f, 500.0f, 0.1f, -1e9f});
  EXPECT_EQ(bytes_of(cast_to(x, "f8e4m3fn")), (std::vector<uint8_t>{0x38, 0xC2, 0x7E, 0x1D, 0xFE}));
  EXPECT_EQ(bytes_of(cast_to(x, "f8e4m3fn", 0)), (std::vector<uint8_t>{0x38, 0xC2, 0x7F, 0x1D, 0xFF}));
  Tensor h = cast_to(x, "f16");
  ASSERT_EQ(h.dtype(), DType::F16);
  EXPECT_EQ(h.data<ir::Half>()[4].bits, 0xFC00);  // -1e9: -inf
  expect_tensor<float>(cast_to(cast_to(Tensor::from_vector<float>({3}, {1.5f, -3.0f, 0.25f}), "bf16"), "f32"), {3},
                       {1.5f, -3.0f, 0.25f});
  Tensor i4 = cast_to(Tensor::from_vector<float>({5}, {2.5f, 3.5f, -9.0f, 7.6f, -0.4f}), "i4");
  expect_tensor<int8_t>(cast_to(i4, "i8"), {5}, {2, 4, -8, 7, 0});
  expect_tensor<uint8_t>(cast_to(cast_to(Tensor::from_vector<int32_t>({3}, {-5, 9, 40}), "u4"), "u8"), {3}, {0, 9, 15});
}

TEST(NarrowTypes, TensorProtoFilesKeepEveryTypeAndPackInt4) {
  // Per process: ctest runs this test alone and again inside the whole binary (unit_op_coverage).
  const auto dir = std::filesystem::temp_directory_path() / ("fc_narrow_types_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Tensor i4 = cast_to(Tensor::from_vector<int32_t>({3}, {-8, 7, -1}), "i4");  // odd count: a half-used last byte
  const std::string p = (dir / "i4.pb").string();
  frontend::save_tensor_proto(p, i4);
  EXPECT_EQ(std::filesystem::file_size(p) < 20, true);
  Tensor back = frontend::load_tensor_proto(p);
  ASSERT_EQ(back.dtype(), DType::I4);
  EXPECT_EQ(bytes_of(back), bytes_of(i4));
  for (const char* to : {"bf16", "f16", "f8e5m2fnuz", "u16", "u64"}) {
    Tensor t = cast_to(Tensor::from_vector<float>({2, 2}, {1, -2, 3, 0.5f}), to);
    frontend::save_tensor_proto(p, t);
    Tensor r = frontend::load_tensor_proto(p);
    EXPECT_EQ(r.dtype(), t.dtype()) << to;
    EXPECT_EQ(r.dims(), t.dims()) << to;
    EXPECT_EQ(bytes_of(r), bytes_of(t)) << to;
  }
  // numpy has f16, the 16/32/64-bit unsigned and 16-bit signed types; not bfloat16.
  const std::string n = (dir / "x.npy").string();
  for (const char* to : {"f16", "u16", "u32", "u64", "i16"}) {
    Tensor t = cast_to(Tensor::from_vector<float>({3}, {1, 2, 300}), to);
    runtime::save_npy(n, t);
    Tensor r = runtime::load_npy(n);
    EXPECT_EQ(r.dtype(), t.dtype()) << to;
    EXPECT_EQ(bytes_of(r), bytes_of(t)) << to;
  }
  try {
    runtime::save_npy(n, cast_to(Tensor::from_vector<float>({1}, {1}), "bf16"));
    ADD_FAILURE() << "a bf16 .npy was written";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), n + ": numpy has no bf16 type (write a .pb file instead)");
  }
  std::filesystem::remove_all(dir);
}

TEST(NarrowTypes, TextIrConstantsRoundTrip) {
  for (const char* to : {"f16", "bf16", "f8e4m3fn", "i4", "u4", "u64"}) {
    Tensor t = cast_to(Tensor::from_vector<float>({3}, {1.5f, -2.0f, 3.0f}), to);
    ir::Graph g;
    ir::Value* c = g.add_param(std::string("c_") + to, t);
    g.outputs.push_back(c);
    const std::string text = ir::print_graph(g, ir::PrintOptions{});
    ir::Graph back = ir::parse_graph(text);
    const ir::Value* v = back.find_value(std::string("c_") + to);
    ASSERT_NE(v, nullptr) << text;
    EXPECT_EQ(bytes_of(back.param(v)), bytes_of(t)) << text;
  }
}

// Integer arithmetic as numpy's: wrapping, truncating division; reductions and Clip on integers;
// ReduceMax/Min of bool as any/all; f16 arithmetic rounded once.
TEST(NarrowTypes, IntegerAndHalfArithmetic) {
  const int32_t big = std::numeric_limits<int32_t>::max();
  expect_tensor<int32_t>(run1("Add", {Tensor::from_vector<int32_t>({2}, {big, -7}), Tensor::from_vector<int32_t>({2}, {1, 2})}),
                         {2}, {std::numeric_limits<int32_t>::min(), -5});
  expect_tensor<uint8_t>(run1("Sub", {Tensor::from_vector<uint8_t>({2}, {3, 200}), Tensor::from_vector<uint8_t>({2}, {5, 100})}),
                         {2}, {254, 100});
  expect_tensor<int16_t>(run1("Div", {Tensor::from_vector<int16_t>({2}, {-7, 7}), Tensor::from_vector<int16_t>({2}, {2, 2})}),
                         {2}, {-3, 3});
  EXPECT_THROW(run1("Div", {Tensor::from_vector<uint32_t>({1}, {1}), Tensor::from_vector<uint32_t>({1}, {0})}), Error);
  expect_tensor<int64_t>(run1("Pow", {Tensor::from_vector<int64_t>({2}, {3, -2}), Tensor::from_vector<float>({2}, {3, 3})}),
                         {2}, {27, -8});
  expect_tensor<int8_t>(run1("Clip", {Tensor::from_vector<int8_t>({3}, {-100, 5, 100})}, {{"min", -10.0f}, {"max", 10.0f}}),
                        {3}, {-10, 5, 10});
  expect_tensor<uint64_t>(run1("ReduceSum", {Tensor::from_vector<uint64_t>({2, 2}, {1, 2, 3, 4})}, {{"axes", Ints{0}}}),
                          {1, 2}, {4, 6});
  expect_tensor<int32_t>(run1("ReduceMean", {Tensor::from_vector<int32_t>({3}, {-1, -2, -4})}, {{"axes", Ints{0}}}),
                         {1}, {-2});  // -7 / 3 truncates toward zero
  Tensor flags = cast_to(Tensor::from_vector<uint8_t>({2, 2}, {1, 0, 0, 0}), "bool");
  expect_tensor<bool>(run1("ReduceMax", {flags}, {{"axes", Ints{1}}}), {2, 1}, {true, false});
  expect_tensor<bool>(run1("ReduceMin", {flags}, {{"axes", Ints{1}}}), {2, 1}, {false, false});
  // 1 + 2^-11 is a tie in f16: each op rounds its float result once, to even.
  Tensor one = cast_to(Tensor::from_vector<float>({1}, {1.0f}), "f16");
  Tensor tiny = cast_to(Tensor::from_vector<float>({1}, {std::ldexp(1.0f, -11)}), "f16");
  EXPECT_EQ(run1("Add", {one, tiny}).data<ir::Half>()[0].bits, 0x3C00);
  EXPECT_EQ(run1("Add", {one, run1("Add", {tiny, tiny})}).data<ir::Half>()[0].bits, 0x3C01);
}

// MaxPool over the types ONNX lists besides f32 (every value exactly a float): values, the first
// maximum on ties, -128 and 255 at the types' ends, and a bf16 window; Reshape with allowzero=1.
TEST(NarrowTypes, MaxPoolOnIntegersAndHalfTypesAndAllowzeroReshape) {
  const std::map<std::string, ir::Attribute> k2{{"kernel_shape", Ints{2}}};
  expect_tensor<int8_t>(run1("MaxPool", {Tensor::from_vector<int8_t>({1, 1, 4}, {-128, -128, 7, 3})}, k2), {1, 1, 3},
                        {-128, 7, 7});
  expect_tensor<uint8_t>(run1("GlobalMaxPool", {Tensor::from_vector<uint8_t>({1, 2, 2}, {255, 0, 1, 2})}), {1, 2, 1},
                         {255, 2});
  Tensor h = cast_to(Tensor::from_vector<float>({1, 1, 3}, {0.5f, -1.0f, 2.25f}), "bf16");
  Tensor y = run1("MaxPool", {h}, k2);
  ASSERT_EQ(y.dtype(), DType::BF16);
  expect_tensor<float>(cast_to(y, "f32"), {1, 1, 2}, {0.5f, 2.25f});
  EXPECT_THROW(run1("AveragePool", {Tensor::from_vector<int8_t>({1, 1, 2}, {1, 2})}, k2), Error);
  // allowzero=1: the 0 is a size (an empty result), not a copy of the input's dim.
  Tensor empty(DType::F32, {0, 3});
  EXPECT_EQ(run1("Reshape", {empty}, {{"shape", Ints{3, 0}}, {"allowzero", int64_t{1}}}).dims(), (Ints{3, 0}));
  EXPECT_EQ(run1("Reshape", {Tensor(DType::F32, {2, 3})}, {{"shape", Ints{0, 3}}}).dims(), (Ints{2, 3}));
  EXPECT_THROW(run1("Reshape", {empty}, {{"shape", Ints{0, -1}}, {"allowzero", int64_t{1}}}), Error);
}

// ONNX Dropout with training_mode=1 in a graph run as it is: about `ratio` of the elements dropped,
// the rest scaled by 1/(1-ratio), the mask saying which; ratio 0 is the identity.
TEST(OnnxTrainingDropout, DropsAndScales) {
  const int64_t n = 100000;
  Tensor x = Tensor::from_vector<float>({n}, std::vector<float>(n, 3.0f));
  const std::map<std::string, ir::Attribute> attrs{{"ratio", 0.25f}, {"training_mode", int64_t{1}}, {"seed", int64_t{5}}};
  OpRun r = run_op("Dropout", {x}, attrs, 2);
  const float* y = r.outputs[0].data<float>();
  const bool* mask = r.outputs[1].data<bool>();
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(y[i], mask[i] ? 4.0f : 0.0f) << i;
    kept += mask[i];
  }
  EXPECT_NEAR(double(kept) / n, 0.75, 0.01);
  OpRun zero = run_op("Dropout", {x}, {{"ratio", 0.0f}, {"training_mode", int64_t{1}}}, 2);
  expect_tensor<float>(zero.outputs[0], {n}, std::vector<float>(n, 3.0f));
}

}  // namespace
}  // namespace fc::test::movement
