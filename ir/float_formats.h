// Narrow floating-point element types as storage types: ONNX FLOAT16 and BFLOAT16 (computed with),
// and the four FLOAT8 types of opset 19 (converted by Cast only). 4-bit integers: ir/int4.h.
//
// We compute with them as ONNX Runtime's CPU kernels do: widen to float, compute, round back to
// nearest-even once per op. For +, -, *, / and sqrt that is the correctly rounded result, since
// float has more than 2p + 2 significand bits for either format (p = 11 and 8), so double rounding
// cannot differ from rounding the exact value. Conversions from double round directly (not through
// float), as numpy's astype does.
#pragma once

#include <cstdint>

namespace fc::ir {

// Bit layout of a binary floating-point format, for the one rounding routine below.
enum class NanForm : uint8_t {
  Ieee,         // exponent all ones: infinity (mantissa 0) or NaN
  AllOnes,      // FLOAT8E4M3FN: only S.1111.111 is NaN; no infinity
  NegativeZero  // the *FNUZ float8 types: 0x80 is the one NaN; no infinity, no -0
};
struct FloatFormat {
  int exponent_bits, mantissa_bits, bias;
  NanForm nan_form;
  bool nan_mantissa_all_ones = false;  // Ieee form: NaN written as S.11111.11 (ONNX's FLOAT8E5M2 NaN)
};
inline constexpr FloatFormat kHalfFormat{5, 10, 15, NanForm::Ieee};
inline constexpr FloatFormat kBFloat16Format{8, 7, 127, NanForm::Ieee};
inline constexpr FloatFormat kFloat8E4M3FN{4, 3, 7, NanForm::AllOnes};
inline constexpr FloatFormat kFloat8E4M3FNUZ{4, 3, 8, NanForm::NegativeZero};
inline constexpr FloatFormat kFloat8E5M2{5, 2, 15, NanForm::Ieee, true};
inline constexpr FloatFormat kFloat8E5M2FNUZ{5, 2, 16, NanForm::NegativeZero};

// v rounded to nearest-even in `f`, as bits. Beyond the largest finite value: +-infinity where the
// format has one, else NaN; with `saturate`, the largest finite value of that sign instead (ONNX
// Cast's saturate, for float8). NaN stays NaN (IEEE forms keep its sign).
uint32_t encode_float(double v, const FloatFormat& f, bool saturate = false);
// The exact value of the bits of `f`.
double decode_float(uint32_t bits, const FloatFormat& f);

// A value of format F in the bits of Storage. Converting to it rounds to nearest-even; beyond the
// format's range it saturates to the largest finite value where kSaturates (ONNX Cast's default for
// the float8 types, Micikevicius et al. 2022 and the FNUZ variants of Graphcore/AMD), else goes to
// infinity (IEEE binary16 and bfloat16).
template <typename Storage, FloatFormat F, bool kSaturates>
struct PackedFloat {
  Storage bits = 0;
  PackedFloat() = default;
  explicit PackedFloat(double v, bool saturate = kSaturates) : bits(static_cast<Storage>(encode_float(v, F, saturate))) {}
  static PackedFloat from_bits(Storage b) { PackedFloat h; h.bits = b; return h; }
  operator float() const { return static_cast<float>(decode_float(bits, F)); }
};
using Half = PackedFloat<uint16_t, kHalfFormat, false>;      // IEEE 754 binary16
using BFloat16 = PackedFloat<uint16_t, kBFloat16Format, false>;  // the upper half of a float32
using Float8E4M3FN = PackedFloat<uint8_t, kFloat8E4M3FN, true>;
using Float8E4M3FNUZ = PackedFloat<uint8_t, kFloat8E4M3FNUZ, true>;
using Float8E5M2 = PackedFloat<uint8_t, kFloat8E5M2, true>;
using Float8E5M2FNUZ = PackedFloat<uint8_t, kFloat8E5M2FNUZ, true>;

template <typename T> inline constexpr bool is_narrow_float_v = false;
template <typename S, FloatFormat F, bool kSat> inline constexpr bool is_narrow_float_v<PackedFloat<S, F, kSat>> = true;

template <typename T>
concept NarrowFloat = is_narrow_float_v<T>;

// Arithmetic in float, rounded back once; comparisons on the values (NaN unordered, -0 == +0).
template <NarrowFloat T> T operator+(T a, T b) { return T(double(float(a) + float(b))); }
template <NarrowFloat T> T operator-(T a, T b) { return T(double(float(a) - float(b))); }
template <NarrowFloat T> T operator*(T a, T b) { return T(double(float(a) * float(b))); }
template <NarrowFloat T> T operator/(T a, T b) { return T(double(float(a) / float(b))); }
template <NarrowFloat T> T operator-(T a) { return T(-static_cast<double>(float(a))); }
template <NarrowFloat T> bool operator==(T a, T b) { return float(a) == float(b); }
template <NarrowFloat T> bool operator<(T a, T b) { return float(a) < float(b); }
template <NarrowFloat T> bool operator>(T a, T b) { return float(a) > float(b); }
template <NarrowFloat T> bool operator<=(T a, T b) { return float(a) <= float(b); }
template <NarrowFloat T> bool operator>=(T a, T b) { return float(a) >= float(b); }

}  // namespace fc::ir
