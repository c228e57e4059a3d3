// exp and erf of a float, in float, written so that a compiler vectorises them and so that they give
// the same bits as the inline versions the JIT emits (codegen/vector_math.cpp builds the same
// operations from the same coefficients: tests/codegen checks the two bit for bit). Used where a
// standalone kernel must equal what a fused kernel computes (the Erf and ErfGrad kernels, whose
// scalar forms use the JIT's erf and exp).
//
// Only correctly rounded IEEE operations (mul, add, div, fma, rint, compares, selects, integer bit
// operations); a product that feeds a sum is always an explicit fma, so that neither GCC's
// -ffp-contract=fast nor LLVM changes the rounding.
//   exp(x): Cephes expf (S. L. Moshier): n = rint(x / ln 2), r = x - n ln 2 (ln 2 in two parts),
//           exp(r) = 1 + r + r^2 P(r), P of degree 5; 2^n applied as two factors so that denormal
//           results round once. At most 1 ulp from the true value.
//   erf(x): odd, so computed for a = |x|: a < 1: a + a P(a^2), P of degree 6 (~ 2 / sqrt(pi) - 1 at 0,
//           so that the float coefficients hold 2 / sqrt(pi) to 1e-9); 1 <= a: 1 - exp(-a^2) Q(t),
//           t = 1 / (1 + a / 2), Q of degree 8 approximating erfc(a) exp(a^2) on [1, 4] (a is
//           clamped to 4: erf(4) rounds to 1), with a^2's rounding error r = fma(a, a, -a^2) taken
//           into exp(-a^2 - r) = exp(-a^2) (1 - r). P and Q: least-squares fits of the relative
//           error, each coefficient rounded to float before the higher ones were fitted again
//           (1.7e-9 and 2.2e-10 with the float coefficients). Measured
//           against the double-precision erf over every float in [0, 4.5]: at most 1 ulp
//           (tests/codegen).
// Changing an algorithm or coefficient here changes the JIT's code, and with it the disk cache's
// keys (they hash the emitted IR: codegen/jit.h), so no cached kernel keeps the old bits.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace fc::ir::float_math {

// Horner coefficients, highest degree first.
inline constexpr float kExpP[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
                                  1.6666665459e-1f, 5.0000001201e-1f};
inline constexpr float kErfSmallP[] = {7.926933176e-05f, -8.032445330e-04f, 5.190887023e-03f, -2.685518377e-02f,
                                       1.128361896e-01f, -3.761262894e-01f, 1.283791661e-01f};
inline constexpr float kErfLargeQ[] = {1.820825040e-02f, 4.756718501e-02f,  -3.484933078e-01f,
                                       4.444810748e-01f, -3.238860518e-02f, 3.207180202e-01f,
                                       2.660676837e-01f, 2.840612829e-01f,  -1.049209895e-04f};
inline constexpr float kErfSplit = 1.0f;  // a below: the odd polynomial
inline constexpr float kErfClamp = 4.0f;

template <size_t N>
inline float horner(float x, const float (&c)[N]) {
  float p = c[0];
  for (size_t i = 1; i < N; ++i) p = std::fma(p, x, c[i]);
  return p;
}

// 2^k for integer k in [-126, 127].
inline float pow2i(int32_t k) {
  const uint32_t bits = static_cast<uint32_t>(k + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline float exp_f32(float x) {
  // Clamp so that 2^n stays within two normal factors; compares are false for NaN, which passes.
  float xc = x > 89.0f ? 89.0f : x;
  xc = xc < -104.0f ? -104.0f : xc;
  const float n = std::rint(xc * 1.44269504088896341f);
  float r = std::fma(n, -0.693359375f, xc);
  r = std::fma(n, 2.12194440e-4f, r);
  const float p = horner(r, kExpP);
  const float y = std::fma(p * r, r, r) + 1.0f;
  const int32_t ni = n != n ? 0 : static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  return y * pow2i(n1) * pow2i(n2);
}

// exp(-a^2) with a^2's rounding error r = fma(a, a, -a^2) taken in: exp(-a^2 - r) = exp(-a^2) (1 - r).
inline float exp_minus_square(float a) {
  const float s = a * a;
  const float e0 = exp_f32(-s);
  return std::fma(-e0, std::fma(a, a, -s), e0);
}

inline float erf_f32(float x) {
  const float a = std::fabs(x);
  const float small = std::fma(a, horner(a * a, kErfSmallP), a);  // a + a (P(a^2) - 1)
  const float ac = kErfClamp < a ? kErfClamp : a;  // NaN stays NaN
  const float t = 1.0f / std::fma(0.5f, ac, 1.0f);
  const float q = horner(t, kErfLargeQ);
  const float large = std::fma(-exp_minus_square(ac), q, 1.0f);
  return std::copysign(a < kErfSplit ? small : large, x);
}

}  // namespace fc::ir::float_math
