// The narrow element types: f16/bf16 (computed with) and float8/int4 (Cast only). Known encodings
// from the IEEE 754 binary16 table and the float8 papers' tables, every bit pattern through a round
// trip, ties to even, saturation, and the bfloat16 rounding of float32 by its usual bit formula.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "ir/dtype.h"

namespace fc::ir {
namespace {

TEST(FloatFormats, HalfKnownValues) {
  EXPECT_EQ(Half(1.0).bits, 0x3C00);
  EXPECT_EQ(Half(-2.0).bits, 0xC000);
  EXPECT_EQ(Half(65504.0).bits, 0x7BFF);                      // largest finite
  EXPECT_EQ(Half(65520.0).bits, 0x7C00);                      // halfway to 65536: ties to even = infinity
  EXPECT_EQ(Half(65519.0).bits, 0x7BFF);
  EXPECT_EQ(Half(std::ldexp(1.0, -24)).bits, 0x0001);         // smallest subnormal
  EXPECT_EQ(Half(std::ldexp(1.0, -25)).bits, 0x0000);         // half of it: ties to even = 0
  EXPECT_EQ(Half(std::ldexp(1.5, -25)).bits, 0x0001);
  EXPECT_EQ(Half(-0.0).bits, 0x8000);
  EXPECT_EQ(Half(1.0 + std::ldexp(1.0, -11)).bits, 0x3C00);   // tie: to the even mantissa
  EXPECT_EQ(Half(1.0 + 3 * std::ldexp(1.0, -11)).bits, 0x3C02);
  EXPECT_EQ(Half(std::nan("")).bits, 0x7E00);
  EXPECT_EQ(Half(-INFINITY).bits, 0xFC00);
  EXPECT_FLOAT_EQ(float(Half::from_bits(0x3555)), 0.333251953125f);
}

// Every bit pattern of a format decodes to a value that encodes back to the same bits (NaNs to a NaN).
void expect_round_trips(const FloatFormat& f, int bits) {
  for (uint32_t b = 0; b < (uint32_t{1} << bits); ++b) {
    const double v = decode_float(b, f);
    if (std::isnan(v)) {
      EXPECT_TRUE(std::isnan(decode_float(encode_float(v, f), f))) << b;
      continue;
    }
    if (f.nan_form == NanForm::NegativeZero && v == 0) continue;  // no -0: 0x80 is the NaN
    EXPECT_EQ(encode_float(v, f), b) << "bits " << b << " value " << v;
  }
}

TEST(FloatFormats, EveryBitPatternRoundTrips) {
  expect_round_trips(kHalfFormat, 16);
  expect_round_trips(kBFloat16Format, 16);
  expect_round_trips(kFloat8E4M3FN, 8);
  expect_round_trips(kFloat8E4M3FNUZ, 8);
  expect_round_trips(kFloat8E5M2, 8);
  expect_round_trips(kFloat8E5M2FNUZ, 8);
}

TEST(FloatFormats, BFloat16RoundsFloat32ToNearestEven) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> mantissa(-4.0f, 4.0f);
  std::uniform_int_distribution<int> exponent(-130, 120);
  for (int i = 0; i < 100000; ++i) {
    const float x = std::ldexp(mantissa(rng), exponent(rng));
    uint32_t u;
    std::memcpy(&u, &x, 4);
    const uint32_t expected = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;  // the usual RNE bit formula
    ASSERT_EQ(BFloat16(x).bits, expected) << x;
  }
}

TEST(FloatFormats, Float8RangesAndSaturation) {
  EXPECT_EQ(encode_float(448.0, kFloat8E4M3FN), 0x7Eu);         // largest finite
  EXPECT_EQ(encode_float(464.0, kFloat8E4M3FN), 0x7Eu);         // tie with 480 (the NaN slot): to even
  EXPECT_EQ(encode_float(500.0, kFloat8E4M3FN, true), 0x7Eu);   // saturates
  EXPECT_EQ(encode_float(500.0, kFloat8E4M3FN, false), 0x7Fu);  // no infinity: NaN
  EXPECT_EQ(encode_float(-INFINITY, kFloat8E4M3FN, true), 0xFEu);
  EXPECT_EQ(encode_float(std::ldexp(1.0, -9), kFloat8E4M3FN), 0x01u);  // smallest subnormal
  EXPECT_EQ(encode_float(240.0, kFloat8E4M3FNUZ), 0x7Fu);
  EXPECT_EQ(encode_float(-0.0, kFloat8E4M3FNUZ), 0x00u);        // no negative zero
  EXPECT_EQ(encode_float(std::nan(""), kFloat8E4M3FNUZ), 0x80u);
  EXPECT_EQ(encode_float(57344.0, kFloat8E5M2), 0x7Bu);
  EXPECT_EQ(encode_float(INFINITY, kFloat8E5M2, false), 0x7Cu);
  EXPECT_EQ(encode_float(INFINITY, kFloat8E5M2, true), 0x7Bu);
  EXPECT_EQ(encode_float(1e6, kFloat8E5M2FNUZ, false), 0x80u);
  EXPECT_EQ(decode_float(0x7E, kFloat8E4M3FN), 448.0);
  EXPECT_TRUE(std::isnan(decode_float(0x80, kFloat8E5M2FNUZ)));
}

TEST(FloatFormats, Int4ClampsAndRoundsToEven) {
  EXPECT_EQ(int(Int4S(2.5)), 2);
  EXPECT_EQ(int(Int4S(3.5)), 4);
  EXPECT_EQ(int(Int4S(-9.7)), -8);
  EXPECT_EQ(int(Int4S(int64_t{100})), 7);
  EXPECT_EQ(int(UInt4(-3.0)), 0);
  EXPECT_EQ(int(UInt4(int64_t{16})), 15);
}

TEST(FloatFormats, DTypeTable) {
  for (DType t : kAllDTypes) EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
  EXPECT_EQ(dtype_size(DType::F16), 2u);
  EXPECT_EQ(dtype_size(DType::I4), 1u);  // one element per byte in memory
  EXPECT_TRUE(is_storage_only_dtype(DType::F8E5M2));
  EXPECT_FALSE(is_storage_only_dtype(DType::BF16));
  EXPECT_TRUE(is_integer_dtype(DType::U64));
  EXPECT_FALSE(is_integer_dtype(DType::I4));
}

}  // namespace
}  // namespace fc::ir
