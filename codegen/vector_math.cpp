// Inline f32 exp/log/tanh in LLVM IR (Cephes algorithms). See vector_math.h.
#include "codegen/vector_math.h"

#include <initializer_list>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include "ir/float_math.h"

namespace fc::codegen {

namespace {

llvm::Value* cf(llvm::IRBuilderBase& b, float v) { return llvm::ConstantFP::get(b.getFloatTy(), v); }

llvm::Value* intrinsic(llvm::IRBuilderBase& b, llvm::Intrinsic::ID id, std::initializer_list<llvm::Value*> args) {
  llvm::Function* f = llvm::Intrinsic::getDeclaration(b.GetInsertBlock()->getModule(), id, {b.getFloatTy()});
  return b.CreateCall(f, llvm::ArrayRef<llvm::Value*>(args.begin(), args.end()));
}

llvm::Value* fma(llvm::IRBuilderBase& b, llvm::Value* x, llvm::Value* y, llvm::Value* z) {
  return intrinsic(b, llvm::Intrinsic::fma, {x, y, z});
}

// Horner: ((c0 x + c1) x + c2) ... by fma.
template <typename Coefficients>
llvm::Value* horner(llvm::IRBuilderBase& b, llvm::Value* x, const Coefficients& c) {
  auto it = std::begin(c);
  llvm::Value* p = cf(b, *it++);
  for (; it != std::end(c); ++it) p = fma(b, p, x, cf(b, *it));
  return p;
}
llvm::Value* horner(llvm::IRBuilderBase& b, llvm::Value* x, std::initializer_list<float> c) {
  return horner<std::initializer_list<float>>(b, x, c);
}

// 2^k as a float for integer k in [-126, 127].
llvm::Value* pow2i(llvm::IRBuilderBase& b, llvm::Value* k) {
  return b.CreateBitCast(b.CreateShl(b.CreateAdd(k, b.getInt32(127)), 23), b.getFloatTy());
}

}  // namespace

llvm::Value* emit_inline_exp(llvm::IRBuilderBase& b, llvm::Value* x) {
  // Clamp so that 2^n stays within two normal factors: exp(89) overflows, exp(-104) rounds to 0.
  // Compares are false for NaN, which therefore passes through unchanged.
  llvm::Value* xc = b.CreateSelect(b.CreateFCmpOGT(x, cf(b, 89.0f)), cf(b, 89.0f), x);
  xc = b.CreateSelect(b.CreateFCmpOLT(xc, cf(b, -104.0f)), cf(b, -104.0f), xc);
  llvm::Value* n = intrinsic(b, llvm::Intrinsic::rint, {b.CreateFMul(xc, cf(b, 1.44269504088896341f))});
  llvm::Value* r = fma(b, n, cf(b, -0.693359375f), xc);  // ln 2 = 0.693359375 - 2.12194440e-4
  r = fma(b, n, cf(b, 2.12194440e-4f), r);
  llvm::Value* p = horner(b, r, ir::float_math::kExpP);
  llvm::Value* y = b.CreateFAdd(fma(b, b.CreateFMul(p, r), r, r), cf(b, 1.0f));  // 1 + r + r^2 P(r)
  // fptosi of NaN would be poison: convert a NaN n as 0 (y is NaN already).
  llvm::Value* n_ok = b.CreateSelect(b.CreateFCmpUNO(n, n), cf(b, 0.0f), n);
  llvm::Value* ni = b.CreateFPToSI(n_ok, b.getInt32Ty());  // in [-150, 128]
  llvm::Value* n1 = b.CreateAShr(ni, 1);
  llvm::Value* n2 = b.CreateSub(ni, n1);
  return b.CreateFMul(b.CreateFMul(y, pow2i(b, n1)), pow2i(b, n2));  // first product exact
}

llvm::Value* emit_inline_log(llvm::IRBuilderBase& b, llvm::Value* x) {
  llvm::Type* i32 = b.getInt32Ty();
  // Denormals: scale into the normal range and remember the 23.
  llvm::Value* tiny = b.CreateFCmpOLT(x, cf(b, 1.17549435e-38f));
  llvm::Value* xs = b.CreateSelect(tiny, b.CreateFMul(x, cf(b, 8388608.0f)), x);
  llvm::Value* bits = b.CreateBitCast(xs, i32);
  llvm::Value* e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, 23), 0xff), b.getInt32(126));
  e = b.CreateSub(e, b.CreateSelect(tiny, b.getInt32(23), b.getInt32(0)));
  llvm::Value* m = b.CreateBitCast(b.CreateOr(b.CreateAnd(bits, 0x007fffff), 0x3f000000), b.getFloatTy());  // [0.5, 1)
  llvm::Value* low = b.CreateFCmpOLT(m, cf(b, 0.707106781186547524f));
  e = b.CreateSub(e, b.CreateZExt(low, i32));
  llvm::Value* f = b.CreateFSub(b.CreateSelect(low, b.CreateFAdd(m, m), m), cf(b, 1.0f));  // exact
  llvm::Value* z = b.CreateFMul(f, f);
  llvm::Value* p = horner(b, f, {7.0376836292e-2f, -1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f,
                                 1.4249322787e-1f, -1.6668057665e-1f, 2.0000714765e-1f, -2.4999993993e-1f,
                                 3.3333331174e-1f});
  llvm::Value* fe = b.CreateSIToFP(e, b.getFloatTy());
  llvm::Value* y = b.CreateFMul(b.CreateFMul(p, f), z);
  y = fma(b, fe, cf(b, -2.12194440e-4f), y);
  y = fma(b, z, cf(b, -0.5f), y);
  llvm::Value* r = fma(b, fe, cf(b, 0.693359375f), b.CreateFAdd(f, y));
  // Specials: +inf -> +inf, 0 -> -inf, negative or NaN -> NaN.
  r = b.CreateSelect(b.CreateFCmpOEQ(x, cf(b, INFINITY)), cf(b, INFINITY), r);
  r = b.CreateSelect(b.CreateFCmpOEQ(x, cf(b, 0.0f)), cf(b, -INFINITY), r);
  return b.CreateSelect(b.CreateFCmpULT(x, cf(b, 0.0f)), cf(b, NAN), r);
}

llvm::Value* emit_inline_tanh(llvm::IRBuilderBase& b, llvm::Value* x) {
  llvm::Value* z = intrinsic(b, llvm::Intrinsic::fabs, {x});
  // Large: 1 - 2 / (exp(2|x|) + 1), exp overflowing to inf for |x| > 44 gives exactly 1.
  llvm::Value* e = emit_inline_exp(b, b.CreateFAdd(z, z));
  llvm::Value* large = b.CreateFSub(cf(b, 1.0f), b.CreateFDiv(cf(b, 2.0f), b.CreateFAdd(e, cf(b, 1.0f))));
  large = intrinsic(b, llvm::Intrinsic::copysign, {large, x});
  // Small: x + x^3 P(x^2); also taken by NaN (the compare is false) and keeps -0.
  llvm::Value* zz = b.CreateFMul(x, x);
  llvm::Value* p = horner(b, zz, {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f, 1.33314422036e-1f,
                                  -3.33332819422e-1f});
  llvm::Value* small = fma(b, b.CreateFMul(p, zz), x, x);
  return b.CreateSelect(b.CreateFCmpOGE(z, cf(b, 0.625f)), large, small);
}

llvm::Value* emit_inline_erf(llvm::IRBuilderBase& b, llvm::Value* x) {
  namespace fm = ir::float_math;
  llvm::Value* a = intrinsic(b, llvm::Intrinsic::fabs, {x});
  llvm::Value* small = fma(b, a, horner(b, b.CreateFMul(a, a), fm::kErfSmallP), a);
  llvm::Value* ac = b.CreateSelect(b.CreateFCmpOLT(cf(b, fm::kErfClamp), a), cf(b, fm::kErfClamp), a);
  llvm::Value* t = b.CreateFDiv(cf(b, 1.0f), fma(b, cf(b, 0.5f), ac, cf(b, 1.0f)));
  llvm::Value* q = horner(b, t, fm::kErfLargeQ);
  llvm::Value* s = b.CreateFMul(ac, ac);
  llvm::Value* e0 = emit_inline_exp(b, b.CreateFNeg(s));
  llvm::Value* e = fma(b, b.CreateFNeg(e0), fma(b, ac, ac, b.CreateFNeg(s)), e0);
  llvm::Value* large = fma(b, b.CreateFNeg(e), q, cf(b, 1.0f));
  llvm::Value* r = b.CreateSelect(b.CreateFCmpOLT(a, cf(b, fm::kErfSplit)), small, large);
  return intrinsic(b, llvm::Intrinsic::copysign, {r, x});
}

}  // namespace fc::codegen
