// Mod against ONNX's definition: fmod = 0 (integers only) is Python's %, the remainder taking the
// divisor's sign, a - b * floor(a / b); fmod = 1 is C's fmod, the dividend's sign, a - b * trunc(a / b).
// The operator spec's worked examples (hand values), then every sign combination over several
// integer widths, broadcast, against those formulas written here; floats against std::fmod in
// double. A remainder is exact (integers; and fmod's result is representable in the operands'
// float type), so every element must match exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

int64_t python_mod(int64_t a, int64_t b) {
  const int64_t q = static_cast<int64_t>(std::floor(double(a) / double(b)));  // exact for these magnitudes
  return a - b * q;
}
int64_t c_mod(int64_t a, int64_t b) {
  const int64_t q = static_cast<int64_t>(std::trunc(double(a) / double(b)));
  return a - b * q;
}

Tensor mod(const Tensor& a, const Tensor& b, int64_t fmod) { return test::run_op("Mod", {a, b}, {{"fmod", fmod}}).outputs[0]; }

TEST(ModForward, OnnxSpecExamples) {
  const Tensor a = Tensor::from_vector<int64_t>({6}, {-4, 7, 5, 4, -7, 8});
  const Tensor b = Tensor::from_vector<int64_t>({6}, {2, -3, 8, -2, 3, 5});
  EXPECT_EQ(test::values<int64_t>(mod(a, b, 0)), (std::vector<int64_t>{0, -2, 5, 0, 2, 3}));
  EXPECT_EQ(test::values<int64_t>(mod(a, b, 1)), (std::vector<int64_t>{0, 1, 5, 0, -1, 3}));
  const Tensor x = Tensor::from_vector<float>({6}, {-4.3f, 7.2f, 5.0f, 4.3f, -7.2f, 8.0f});
  const Tensor y = Tensor::from_vector<float>({6}, {2.1f, -3.4f, 8.0f, -2.1f, 3.4f, 5.0f});
  const std::vector<float> got = test::values<float>(mod(x, y, 1));
  // The spec's rounded values: -0.1, 0.4, 5, 0.1, -0.4, 3 (of the decimal operands).
  const std::vector<float> approx = {-0.1f, 0.4f, 5.0f, 0.1f, -0.4f, 3.0f};
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], approx[i], 1e-5) << i;
}

template <typename T>
void check_integer_type(ir::DType dtype) {
  SCOPED_TRACE(ir::dtype_name(dtype));
  // a: [2, 2, 7] of every sign and zero; b: [7] of both signs (no zero divisor), broadcast.
  std::vector<T> av, bv = {3, -3, 7, -7, 1, -1, 5};
  for (int i = 0; i < 28; ++i) av.push_back(static_cast<T>((i * 37) % 61 - 30));
  const Tensor a = Tensor::from_vector<T>({2, 2, 7}, av), b = Tensor::from_vector<T>({7}, bv);
  for (int64_t fmod : {0, 1}) {
    const Tensor r = mod(a, b, fmod);
    ASSERT_EQ(r.dtype(), dtype);
    ASSERT_EQ(r.dims(), (std::vector<int64_t>{2, 2, 7}));
    for (size_t i = 0; i < av.size(); ++i) {
      const int64_t x = av[i], y = bv[i % 7];
      EXPECT_EQ(int64_t(r.data<T>()[i]), fmod ? c_mod(x, y) : python_mod(x, y)) << x << " mod " << y << " fmod " << fmod;
    }
  }
}

TEST(ModForward, IntegersEverySignBothConventions) {
  check_integer_type<int64_t>(ir::DType::I64);
  check_integer_type<int32_t>(ir::DType::I32);
  check_integer_type<int16_t>(ir::DType::I16);
  check_integer_type<int8_t>(ir::DType::I8);
}

TEST(ModForward, LargeInt64KeepsEveryBit) {
  // Beyond double's 53 bits: the reference is exact integer arithmetic on the operands written here.
  const int64_t big = (int64_t{1} << 62) + 12345;
  const Tensor a = Tensor::from_vector<int64_t>({2}, {big, -big});
  const Tensor b = Tensor::from_vector<int64_t>({1}, {-1000});
  // big = 4611686018427400249: mod 1000 is 249. C: sign of a; Python: sign of b.
  EXPECT_EQ(test::values<int64_t>(mod(a, b, 1)), (std::vector<int64_t>{249, -249}));
  EXPECT_EQ(test::values<int64_t>(mod(a, b, 0)), (std::vector<int64_t>{-751, -249}));
}

TEST(ModForward, FloatsFollowFmod) {
  for (ir::DType dtype : {ir::DType::F32, ir::DType::F64}) {
    SCOPED_TRACE(ir::dtype_name(dtype));
    const Tensor a32 = random_f32({4, 9}, 3, -20, 20), b32 = random_f32({9}, 4, -5, 5);
    auto widen = [&](const Tensor& t) {
      if (dtype == ir::DType::F32) return t;
      const std::vector<float> v = test::values<float>(t);
      return Tensor::from_vector<double>(t.dims(), std::vector<double>(v.begin(), v.end()));
    };
    const Tensor a = widen(a32), b = widen(b32);
    std::vector<double> want;
    for (int64_t i = 0; i < 36; ++i)
      want.push_back(std::fmod(double(a32.data<float>()[i]), double(b32.data<float>()[i % 9])));
    const Tensor r = mod(a, b, 1);
    if (dtype == ir::DType::F32) expect_values<float>(r, {4, 9}, want, 0.0, 0.0);
    else expect_values<double>(r, {4, 9}, want, 0.0, 0.0);
  }
  // fmod = 0 (the divisor's sign) is integers-only in ONNX: refused for floats.
  EXPECT_ANY_THROW(mod(Tensor::from_vector<float>({1}, {1}), Tensor::from_vector<float>({1}, {2}), 0));
}

}  // namespace
