#include "ir/float_formats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fc::ir {
namespace {

uint32_t all_ones(int bits) { return (uint32_t{1} << bits) - 1; }

// The largest finite magnitude's bits (sign clear).
uint32_t max_finite_bits(const FloatFormat& f) {
  const int e = f.exponent_bits, m = f.mantissa_bits;
  switch (f.nan_form) {
    case NanForm::Ieee: return ((all_ones(e) - 1) << m) | all_ones(m);
    case NanForm::AllOnes: return (all_ones(e) << m) | (all_ones(m) - 1);
    case NanForm::NegativeZero: return (all_ones(e) << m) | all_ones(m);
  }
  return 0;
}

uint32_t nan_bits(const FloatFormat& f, bool negative, double v) {
  const int e = f.exponent_bits, m = f.mantissa_bits;
  const uint32_t sign = negative ? uint32_t{1} << (e + m) : 0;
  switch (f.nan_form) {
    case NanForm::Ieee: {
      if (f.nan_mantissa_all_ones) return sign | (all_ones(e) << m) | all_ones(m);
      // The payload's top bits, quiet (as numpy narrows a NaN).
      uint64_t raw;
      static_assert(sizeof raw == sizeof v);
      std::memcpy(&raw, &v, sizeof raw);
      const uint32_t payload = static_cast<uint32_t>((raw & ((uint64_t{1} << 52) - 1)) >> (52 - m));
      return sign | (all_ones(e) << m) | payload | (uint32_t{1} << (m - 1));
    }
    case NanForm::AllOnes: return sign | (all_ones(e) << m) | all_ones(m);
    case NanForm::NegativeZero: return uint32_t{1} << (e + m);
  }
  return 0;
}

}  // namespace

uint32_t encode_float(double v, const FloatFormat& f, bool saturate) {
  const int e = f.exponent_bits, m = f.mantissa_bits;
  const bool negative = std::signbit(v);
  const uint32_t sign = negative ? uint32_t{1} << (e + m) : 0;
  // The FNUZ forms have no -0 (its bits are the NaN): a value rounding to zero is +0.
  const uint32_t zero = f.nan_form == NanForm::NegativeZero ? 0 : sign;
  if (std::isnan(v)) return nan_bits(f, negative, v);
  const uint32_t max_bits = max_finite_bits(f);
  auto overflow = [&]() -> uint32_t {
    if (saturate) return sign | max_bits;
    if (f.nan_form == NanForm::Ieee) return sign | (all_ones(e) << m);
    return nan_bits(f, negative, v);
  };
  const double a = std::fabs(v);
  if (std::isinf(a)) return overflow();
  if (a == 0) return zero;
  int k = 0;
  std::frexp(a, &k);  // a = fraction * 2^k, fraction in [0.5, 1)
  const int min_exponent = 1 - f.bias;
  const int exponent = std::max(k - 1, min_exponent);
  // a in units of the format's spacing at that exponent, rounded to nearest-even (the default mode).
  double units = std::nearbyint(std::ldexp(a, m - exponent));
  if (units == 0) return zero;
  int biased = exponent + f.bias;
  if (units >= std::ldexp(1.0, m + 1)) {  // rounded up to the next power of two
    units = std::ldexp(1.0, m);
    ++biased;
  }
  uint32_t bits = units >= std::ldexp(1.0, m)
                      ? (static_cast<uint32_t>(biased) << m) | (static_cast<uint32_t>(units) - (uint32_t{1} << m))
                      : static_cast<uint32_t>(units);  // subnormal: exponent field 0
  if (biased > static_cast<int>(all_ones(e)) || bits > max_bits) return overflow();
  return sign | bits;
}

double decode_float(uint32_t bits, const FloatFormat& f) {
  const int e = f.exponent_bits, m = f.mantissa_bits;
  const bool negative = (bits >> (e + m)) & 1;
  const uint32_t exponent = (bits >> m) & all_ones(e), mantissa = bits & all_ones(m);
  switch (f.nan_form) {
    case NanForm::Ieee:
      if (exponent == all_ones(e)) {
        if (mantissa != 0) return std::copysign(std::nan(""), negative ? -1.0 : 1.0);
        return negative ? -INFINITY : INFINITY;
      }
      break;
    case NanForm::AllOnes:
      if (exponent == all_ones(e) && mantissa == all_ones(m)) return std::nan("");
      break;
    case NanForm::NegativeZero:
      if (bits == uint32_t{1} << (e + m)) return std::nan("");
      break;
  }
  const double magnitude = exponent == 0 ? std::ldexp(double(mantissa), 1 - f.bias - m)
                                         : std::ldexp(double(mantissa | (uint32_t{1} << m)), int(exponent) - f.bias - m);
  return negative ? -magnitude : magnitude;
}

}  // namespace fc::ir
