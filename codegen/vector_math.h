// exp, log, tanh and erf for f32 emitted inline as LLVM IR, so that the loop vectoriser can widen them
// (a call to libm's expf stops it). Only IEEE operations the vector units do lane for lane (fma,
// mul, add, div, rint, compares, selects, integer bit operations), so the vector loop and its scalar
// remainder give identical bits and a kernel's result never depends on how its range is split.
//
// The algorithms are the classic Cephes single-precision ones (S. L. Moshier), with the polynomials
// evaluated by fma:
//   exp(x) = 2^n * exp(r), n = rint(x / ln 2), r = x - n ln 2 (two-part ln 2), exp(r) = 1 + r +
//            r^2 P(r) (degree 5); 2^n applied as two factors so that denormal results round once.
//   log(x) = e ln 2 + log(m), x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(1 + f) = f - f^2/2 +
//            f^3 P(f) (degree 8); denormal x is scaled by 2^23 first.
//   tanh(x) = x + x^3 P(x^2) for |x| < 0.625, else sign(x) (1 - 2 / (exp(2|x|) + 1)).
// Measured against the double-precision value (tests/codegen, 1M samples per range): at most 1 ulp for
// exp, log and tanh, 2 for sigmoid on [-80, 80]. KNOWN ISSUE: sigmoid near x = -88.72 (exp(-x) at the
// edge of overflow) was measured far off (denormal result); not yet investigated.
// Special values follow C: exp(-inf) = 0, exp(+inf) = inf, log(0) = -inf, log(x < 0) = NaN,
// tanh(+-inf) = +-1, NaN -> NaN.
#pragma once

namespace llvm {
class IRBuilderBase;
class Value;
}  // namespace llvm

namespace fc::codegen {

llvm::Value* emit_inline_exp(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_inline_log(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_inline_tanh(llvm::IRBuilderBase& b, llvm::Value* x);
// erf as ir/float_math.h's erf_f32, operation for operation (the same bits).
llvm::Value* emit_inline_erf(llvm::IRBuilderBase& b, llvm::Value* x);

}  // namespace fc::codegen
