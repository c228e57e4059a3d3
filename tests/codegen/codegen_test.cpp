// codegen/: fused elementwise kernels through LLVM. Every op JIT-compiled against a plain C++ loop
// (bitwise where the op is one IEEE operation, in ulps for the libm functions), broadcasting, odd
// sizes, range splits, in-place updates, the disk cache (also across processes), PTX (checked with
// ptxas when CUDA is installed, the optimizer updates' programs included), table inputs, and two
// realistic fused chains (BN-apply + ReLU, SGD momentum).
// Random data comes from a fixed seed printed on failure. Compiled with -ffp-contract=off so that the
// reference loops round exactly as written (codegen_tests.cmake).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ir/fused_kernel.h"
#include "codegen/jit.h"
#include "codegen/ptx.h"
#include "ir/content_hash.h"
#include "ir/float_math.h"
#include "support/error.h"
#include "ir/graph.h"
#include "ir/hyperparams.h"
#include "ir/scalar_form.h"
#include "tests/codegen/codegen_test_util.h"

namespace fc::codegen {
namespace {

// ---- the description ------------------------------------------------------------------------------

TEST(FusedKernel, CanonicalTextAndHash) {
  FusedKernel k({8, 3, 4, 4});
  const int x = k.add_input({8, 3, 4, 4});
  const int b = k.add_input({1, 3, 1, 1});
  const int xv = k.load(x);  // (sequenced: argument evaluation order is unspecified)
  const int bv = k.load(b);
  k.add_output(k.relu(k.add(xv, bv)));
  EXPECT_EQ(k.to_text(),
            "fused_kernel v1\nout [8,3,4,4]\nin 0 [8,3,4,4]\nin 1 [1,3,1,1]\n%0 = load 0\n%1 = load 1\n"
            "%2 = add %0 %1\n%3 = relu %2\nout 0 %3\n");
  EXPECT_EQ(k.hash().size(), 16u);
  EXPECT_EQ(k.hash(), ir::hex64(ir::fnv1a64(k.to_text())));
  // Constants and shapes are part of the identity.
  FusedKernel c1({4}), c2({4}), c3({5});
  for (FusedKernel* c : {&c1, &c2, &c3}) c->add_input({c == &c3 ? 5 : 4});
  c1.add_output(c1.mul(c1.load(0), c1.constant(0.5f)));
  c2.add_output(c2.mul(c2.load(0), c2.constant(0.25f)));
  c3.add_output(c3.mul(c3.load(0), c3.constant(0.5f)));
  EXPECT_NE(c1.hash(), c2.hash());
  EXPECT_NE(c1.hash(), c3.hash());
  EXPECT_NE(c1.to_text().find("const 0x3f000000"), std::string::npos);
  EXPECT_EQ(ir::fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(ir::fnv1a64("a"), 0xaf63dc4c8601ec8cull);  // published FNV-1a 64 test vector
}

TEST(FusedKernel, TextRoundTrips) {
  // Every op, odd constants (negative zero, NaN bits, denormal) and several outputs.
  FusedKernel k({2, 5, 3});
  const int a = k.load(k.add_input({2, 5, 3}));
  const int b = k.load(k.add_input({5, 1}));
  const int c = k.load(k.add_input({}));
  int acc = a;
  for (float v : {-0.0f, std::bit_cast<float>(0x7fc00001u), 1e-40f, 3.25f}) acc = k.add(acc, k.constant(v));
  acc = k.leaky_relu(acc, 0.125f);
  acc = k.select(k.less(acc, b), k.fma(acc, b, c), k.unary(ScalarOp::kFloor, acc));
  k.add_output(acc);
  k.add_output(k.unary(ScalarOp::kCeil, b));
  const std::string text = k.to_text();
  const FusedKernel back = FusedKernel::from_text(text);
  EXPECT_EQ(back.to_text(), text);
  EXPECT_TRUE(back == k);
  EXPECT_EQ(back.hash(), k.hash());
  EXPECT_EQ(std::bit_cast<uint32_t>(back.instrs()[5].value), 0x7fc00001u);  // %3 const, %4 add, %5 const
  // Malformed text names the line.
  auto message = [](const std::string& t) {
    try {
      FusedKernel::from_text(t);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("fused_kernel v2\n").find("line 1"), std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\nin 0 [4]\n%0 = load 0\n%1 = frob %0\nout 0 %1\n").find("line 5"),
            std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\nin 0 [4]\n%0 = load 0\n%1 = add %0 %1\nout 0 %1\n").find("operand"),
            std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\nin 0 [4]\n%0 = const 1.0\nout 0 %0\n").find("float bits"),
            std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\nin 0 [3]\n%0 = load 0\nout 0 %0\n").find("broadcast"),
            std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\n").find("no outputs"), std::string::npos);
}

TEST(FusedKernel, ValidateRejectsBadKernels) {
  FusedKernel k({2, 3});
  k.add_input({4});
  k.add_output(k.load(0));
  EXPECT_THROW(k.validate(), Error);  // [4] does not broadcast to [2,3]
  FusedKernel none({2});
  none.add_input({2});
  none.load(0);
  EXPECT_THROW(none.validate(), Error);  // no outputs
  FusedKernel fwd({2});
  EXPECT_THROW(fwd.add(0, 1), Error);    // values that do not exist yet
  EXPECT_THROW(fwd.load(0), Error);      // no such input
  EXPECT_THROW(fwd.unary(ScalarOp::kAdd, 0), Error);
}

// A kernel reading scalars from a table input (the optimizer updates' hyper-parameter vector): y = x *
// t[2] + t[0], the table [5] not broadcast to the output [3, 7].
FusedKernel table_kernel() {
  FusedKernel k({3, 7});
  const int x = k.load(k.add_input({3, 7}));
  const int t = k.add_input({5});
  const int scale = k.param(t, 2);
  const int shift = k.param(t, 0);
  k.add_output(k.fma(x, scale, shift));
  return k;
}

TEST(FusedKernel, TableInputs) {
  const FusedKernel k = table_kernel();
  EXPECT_NO_THROW(k.validate());
  EXPECT_TRUE(k.is_loaded(0));
  EXPECT_FALSE(k.is_loaded(1));
  EXPECT_NE(k.to_text().find("%1 = param 1 2"), std::string::npos) << k.to_text();
  EXPECT_TRUE(FusedKernel::from_text(k.to_text()) == k);
  EXPECT_EQ(make_loop_nest(k).strides[1], std::vector<int64_t>{0});  // the table takes no part in the nest
  EXPECT_EQ(k.arithmetic_ops(), 1);
  // An element outside the table is rejected, at build time and when read back.
  FusedKernel bad({4});
  bad.add_output(bad.param(bad.add_input({5}), 5));
  EXPECT_THROW(bad.validate(), Error);
  EXPECT_THROW(FusedKernel::from_text("fused_kernel v1\nout [4]\nin 0 [5]\n%0 = param 0 9\nout 0 %0\n"), Error);
  EXPECT_THROW(FusedKernel::from_text("fused_kernel v1\nout [4]\nin 0 [5]\n%0 = param 0\nout 0 %0\n"), Error);
  // program_of: the structure without shapes (an IR node before the batch is known).
  const FusedKernel program = FusedKernel::program_of(k.body_text(), 2);
  EXPECT_EQ(program.body_text(), k.body_text());
  EXPECT_FALSE(program.is_loaded(1));
}

TEST(FusedKernel, LoopNestMergesDims) {
  FusedKernel k({8, 3, 5, 7});
  k.add_input({8, 3, 5, 7});
  k.add_input({1, 3, 1, 1});
  k.add_input({});
  k.add_output(k.add(k.add(k.load(0), k.load(1)), k.load(2)));
  const LoopNest n = make_loop_nest(k);
  EXPECT_EQ(n.dims, (std::vector<int64_t>{8, 3, 35}));
  EXPECT_EQ(n.strides[0], (std::vector<int64_t>{105, 35, 1}));
  EXPECT_EQ(n.strides[1], (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(n.strides[2], (std::vector<int64_t>{0, 0, 0}));
  // All contiguous: one flat dim; size-1 dims vanish.
  FusedKernel flat({4, 1, 6});
  flat.add_input({4, 1, 6});
  flat.add_output(flat.load(0));
  EXPECT_EQ(make_loop_nest(flat).dims, (std::vector<int64_t>{24}));
}

// ---- every op against a C++ loop ---------------------------------------------------------------------

struct OpCase {
  const char* name;
  int arity;
  std::function<int(FusedKernel&, int, int, int)> build;  // operands' value ids
  std::function<float(float, float, float)> ref;
  int64_t max_ulps;  // 0: bitwise; else with inline math (glibc calls: at most 1)
  float lo = -4.0f, hi = 4.0f;
};

std::vector<OpCase> op_cases() {
  using K = FusedKernel;
  return {
      {"add", 2, [](K& k, int a, int b, int) { return k.add(a, b); }, [](float a, float b, float) { return a + b; }, 0},
      {"sub", 2, [](K& k, int a, int b, int) { return k.sub(a, b); }, [](float a, float b, float) { return a - b; }, 0},
      {"mul", 2, [](K& k, int a, int b, int) { return k.mul(a, b); }, [](float a, float b, float) { return a * b; }, 0},
      {"div", 2, [](K& k, int a, int b, int) { return k.div(a, b); }, [](float a, float b, float) { return a / b; }, 0},
      {"max", 2, [](K& k, int a, int b, int) { return k.max(a, b); },
       [](float a, float b, float) { return (a > b || a != a) ? a : b; }, 0},
      {"min", 2, [](K& k, int a, int b, int) { return k.min(a, b); },
       [](float a, float b, float) { return (a < b || a != a) ? a : b; }, 0},
      {"greater", 2, [](K& k, int a, int b, int) { return k.greater(a, b); },
       [](float a, float b, float) { return a > b ? 1.0f : 0.0f; }, 0},
      {"less", 2, [](K& k, int a, int b, int) { return k.less(a, b); },
       [](float a, float b, float) { return a < b ? 1.0f : 0.0f; }, 0},
      // (Random floats are almost never equal: compare their floors, which often are.)
      {"equal", 2,
       [](K& k, int a, int b, int) { return k.equal(k.unary(ScalarOp::kFloor, a), k.unary(ScalarOp::kFloor, b)); },
       [](float a, float b, float) { return std::floor(a) == std::floor(b) ? 1.0f : 0.0f; }, 0},
      {"floor", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kFloor, a); },
       [](float a, float, float) { return std::floor(a); }, 0},
      {"ceil", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kCeil, a); },
       [](float a, float, float) { return std::ceil(a); }, 0},
      {"neg", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kNeg, a); }, [](float a, float, float) { return -a; }, 0},
      {"abs", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kAbs, a); },
       [](float a, float, float) { return std::fabs(a); }, 0},
      {"relu", 1, [](K& k, int a, int, int) { return k.relu(a); },
       [](float a, float, float) { return std::max(a, 0.0f); }, 0},
      {"leaky_relu", 1, [](K& k, int a, int, int) { return k.leaky_relu(a, 0.01f); },
       [](float a, float, float) { return a >= 0 ? a : 0.01f * a; }, 0},
      {"exp", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kExp, a); },
       [](float a, float, float) { return std::exp(a); }, 2, -80.0f, 80.0f},
      {"log", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kLog, a); },
       [](float a, float, float) { return std::log(a); }, 2, 1e-6f, 1e6f},
      {"sqrt", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kSqrt, a); },
       [](float a, float, float) { return std::sqrt(a); }, 0, 0.0f, 1e6f},
      {"rsqrt", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kRsqrt, a); },
       [](float a, float, float) { return 1.0f / std::sqrt(a); }, 0, 1e-6f, 1e6f},
      {"erf", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kErf, a); },
       [](float a, float, float) { return std::erf(a); }, 2, -5.0f, 5.0f},
      {"tanh", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kTanh, a); },
       [](float a, float, float) { return std::tanh(a); }, 3, -10.0f, 10.0f},
      {"sigmoid", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kSigmoid, a); },
       [](float a, float, float) { return 1.0f / (1.0f + std::exp(-a)); }, 4, -30.0f, 30.0f},
      {"select", 3, [](K& k, int a, int b, int c) { return k.select(k.greater(a, k.constant(0.0f)), b, c); },
       [](float a, float b, float c) { return a > 0 ? b : c; }, 0},
      {"select_raw", 3, [](K& k, int a, int b, int c) { return k.select(a, b, c); },
       [](float a, float b, float c) { return a != 0 ? b : c; }, 0},
      {"fma", 3, [](K& k, int a, int b, int c) { return k.fma(a, b, c); },
       [](float a, float b, float c) { return std::fma(a, b, c); }, 0},
  };
}

void check_every_op(Jit& jit, bool inline_math) {
  const int64_t n = 4099;  // not a multiple of the vector width: vector body and remainder both run
  const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, INFINITY, -INFINITY, NAN, 1e-40f, -1e-40f, 3.0f};
  for (const OpCase& c : op_cases()) {
    SCOPED_TRACE(std::string(c.name) + (inline_math ? " (inline math)" : " (libm)") + ", seed " +
                 std::to_string(kSeed));
    const int64_t max_ulps = inline_math ? c.max_ulps : std::min<int64_t>(c.max_ulps, 1);
    std::vector<std::vector<float>> data;
    for (int i = 0; i < c.arity; ++i) {
      data.push_back(random_floats(n, c.lo, c.hi, kSeed + i));
      for (size_t s = 0; s < std::size(specials); ++s) data[i][s * 7 + i] = specials[s];
      data[i][100 + i] = 0.0f;  // select's condition and greater's operands meet zero
    }
    FusedKernel k({n});
    int v[3] = {-1, -1, -1};
    for (int i = 0; i < c.arity; ++i) v[i] = k.load(k.add_input({n}));
    k.add_output(c.build(k, v[0], v[1], v[2]));
    KernelFn f = jit.compile(k);
    std::vector<float> out(n, -7.0f);
    std::vector<const float*> in;
    for (auto& d : data) in.push_back(d.data());
    run(f, in, {out.data()}, 0, n);
    for (int64_t e = 0; e < n; ++e) {
      const float a = data[0][e], b = c.arity > 1 ? data[1][e] : 0.0f, cc = c.arity > 2 ? data[2][e] : 0.0f;
      const float want = c.ref(a, b, cc);
      if (max_ulps == 0) {
        ASSERT_TRUE(same_bits(out[e], want)) << "element " << e << " inputs " << a << " " << b << " " << cc
                                             << ": got " << out[e] << " want " << want;
      } else {
        ASSERT_LE(ulp_distance(out[e], want), max_ulps) << "element " << e << " input " << a << ": got " << out[e]
                                                        << " want " << want;
      }
    }
    // The evaluator in the library (glibc math) agrees too: it is the fallback path.
    std::vector<float> ref(n);
    std::vector<float*> ref_out = {ref.data()};
    evaluate_reference(k, in.data(), ref_out.data(), 0, n);
    for (int64_t e = 0; e < n; ++e) ASSERT_LE(ulp_distance(ref[e], out[e]), max_ulps) << "element " << e;
  }
}

TEST(CodegenOps, EveryOpMatchesReferenceLoop) { check_every_op(memory_jit(), true); }
TEST(CodegenOps, EveryOpMatchesReferenceLoopWithLibm) { check_every_op(libm_jit(), false); }

// The inline exp/log/tanh/sigmoid over their whole useful ranges (denormal results of exp, denormal
// inputs of log, tanh's two branches), against the double-precision value rounded to float; prints
// the worst error seen.
TEST(CodegenOps, InlineTranscendentalsAccuracy) {
  struct Range {
    ScalarOp op;
    float lo, hi;
    bool log_spaced;
    std::function<double(double)> ref;  // the truth, in double
    int64_t max_ulps;
  };
  const Range ranges[] = {
      {ScalarOp::kExp, -104.0f, 89.0f, false, [](double x) { return std::exp(x); }, 2},
      {ScalarOp::kExp, -1.0f, 1.0f, false, [](double x) { return std::exp(x); }, 2},
      {ScalarOp::kLog, 1e-45f, 3e38f, true, [](double x) { return std::log(x); }, 2},
      {ScalarOp::kLog, 0.5f, 2.0f, false, [](double x) { return std::log(x); }, 2},
      {ScalarOp::kTanh, -12.0f, 12.0f, false, [](double x) { return std::tanh(x); }, 3},
      {ScalarOp::kTanh, 1e-30f, 1.0f, true, [](double x) { return std::tanh(x); }, 3},
      {ScalarOp::kSigmoid, -80.0f, 80.0f, false, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, 3},
      {ScalarOp::kErf, -5.0f, 5.0f, false, [](double x) { return std::erf(x); }, 1},
      {ScalarOp::kErf, 1e-40f, 1.0f, true, [](double x) { return std::erf(x); }, 1},
  };
  const int64_t n = 1 << 20;
  for (const Range& r : ranges) {
    std::vector<float> xs(n);
    std::mt19937 rng(kSeed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (float& x : xs) {
      const double t = u(rng);
      x = r.log_spaced ? static_cast<float>(std::exp(std::log(double(r.lo)) + t * (std::log(double(r.hi)) - std::log(double(r.lo)))))
                       : static_cast<float>(r.lo + t * (double(r.hi) - r.lo));
      if ((r.op == ScalarOp::kTanh || r.op == ScalarOp::kErf) && (rng() & 1)) x = -x;
    }
    FusedKernel k({n});
    k.add_output(k.unary(r.op, k.load(k.add_input({n}))));
    std::vector<float> out(n);
    run(memory_jit().compile(k), {xs.data()}, {out.data()}, 0, n);
    int64_t worst = 0;
    float worst_x = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t d = ulp_distance(out[i], static_cast<float>(r.ref(xs[i])));
      if (d > worst) worst = d, worst_x = xs[i];
    }
    std::printf("  %-8s [%g, %g]: max %lld ulp (at %.9g)\n", op_name(r.op), r.lo, r.hi, static_cast<long long>(worst),
                worst_x);
    EXPECT_LE(worst, r.max_ulps) << op_name(r.op) << " at " << worst_x;
  }
  // Special values, C's answers.
  FusedKernel k({8});
  const int x = k.load(k.add_input({8}));
  k.add_output(k.unary(ScalarOp::kExp, x));
  k.add_output(k.unary(ScalarOp::kLog, x));
  k.add_output(k.unary(ScalarOp::kTanh, x));
  const float xs[8] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f, -1.0f, 1e-45f, 100.0f};
  float e[8], l[8], t[8];
  run(memory_jit().compile(k), {xs}, {e, l, t}, 0, 8);
  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE("x = " + std::to_string(xs[i]));
    EXPECT_TRUE(same_bits(e[i], std::exp(xs[i])) || ulp_distance(e[i], std::exp(xs[i])) <= 2) << e[i];
    EXPECT_TRUE(same_bits(l[i], std::log(xs[i])) || (std::isnan(l[i]) && std::isnan(std::log(xs[i]))) ||
                ulp_distance(l[i], std::log(xs[i])) <= 2)
        << l[i];
    EXPECT_TRUE(same_bits(t[i], std::tanh(xs[i])) || ulp_distance(t[i], std::tanh(xs[i])) <= 3) << t[i];
  }
}

// The inline exp and erf give, bit for bit, what ir/float_math.h's C++ versions give (the standalone
// Erf and ErfGrad kernels use those, so that a fused GELU equals the unfused one): on every float
// of a sampled grid over their ranges, both signs, and the special values.
TEST(CodegenOps, InlineExpAndErfEqualTheirCppVersions) {
  std::vector<float> xs = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, -1e-45f, 1.0f, 4.0f, 89.0f, -104.0f, 1e-40f};
  std::mt19937 rng(kSeed);
  std::uniform_real_distribution<float> wide(-110.0f, 95.0f), narrow(-6.0f, 6.0f);
  while (xs.size() < (1u << 20)) {
    xs.push_back(wide(rng));
    xs.push_back(narrow(rng));
    xs.push_back(std::ldexp(narrow(rng), -static_cast<int>(rng() % 140)));
  }
  const int64_t n = static_cast<int64_t>(xs.size());
  FusedKernel k({n});
  const int x = k.load(k.add_input({n}));
  k.add_output(k.unary(ScalarOp::kExp, x));
  k.add_output(k.unary(ScalarOp::kErf, x));
  std::vector<float> e(n), f(n);
  run(memory_jit().compile(k), {xs.data()}, {e.data(), f.data()}, 0, n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(same_bits(e[i], ir::float_math::exp_f32(xs[i]))) << "exp(" << xs[i] << ")";
    ASSERT_TRUE(same_bits(f[i], ir::float_math::erf_f32(xs[i]))) << "erf(" << xs[i] << ")";
  }
}

// ---- sizes, broadcasting, ranges --------------------------------------------------------------------

// y = relu(x + b) with b: [1, C] broadcast over rows of x: [rows, C].
FusedKernel bias_relu(int64_t rows, int64_t cols) {
  FusedKernel k({rows, cols});
  const int x = k.add_input({rows, cols});
  const int b = k.add_input({1, cols});
  k.add_output(k.relu(k.add(k.load(x), k.load(b))));
  return k;
}

TEST(CodegenShapes, Sizes0_1_7_1000003) {
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{1000003}}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    FusedKernel k({n});
    const int x = k.add_input({n});
    const int s = k.add_input({});
    k.add_output(k.relu(k.mul(k.load(x), k.load(s))));
    KernelFn f = memory_jit().compile(k);
    auto xs = random_floats(static_cast<size_t>(n), -1, 1);
    const float scale = 1.5f;
    std::vector<float> out(static_cast<size_t>(n) + 1, 42.0f);  // one guard element
    run(f, {xs.data(), &scale}, {out.data()}, 0, n);
    for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(same_bits(out[i], std::max(xs[i] * scale, 0.0f))) << i;
    EXPECT_EQ(out[n], 42.0f);  // nothing written past the end
    // An empty range writes nothing.
    out.assign(out.size(), 42.0f);
    run(f, {xs.data(), &scale}, {out.data()}, n / 2, n / 2);
    for (float o : out) ASSERT_EQ(o, 42.0f);
  }
}

TEST(CodegenShapes, BiasAddNCHW) {
  const int64_t N = 3, C = 5, H = 7, W = 9;
  FusedKernel k({N, C, H, W});
  const int x = k.add_input({N, C, H, W});
  const int b = k.add_input({1, C, 1, 1});
  k.add_output(k.add(k.load(x), k.load(b)));
  KernelFn f = memory_jit().compile(k);
  auto xs = random_floats(N * C * H * W, -1, 1), bs = random_floats(C, -1, 1, kSeed + 1);
  std::vector<float> out(xs.size());
  run(f, {xs.data(), bs.data()}, {out.data()}, 0, k.numel());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H * W; ++i) {
        const int64_t e = (n * C + c) * H * W + i;
        ASSERT_TRUE(same_bits(out[e], xs[e] + bs[c])) << e;
      }
}

TEST(CodegenShapes, MixedBroadcasts) {
  // out[i, j, l] = a[i, 0, l] * b[j, 1] - c[] + d[l]: an input of lower rank, broadcasts in the middle
  // and inner dims, a scalar, and a size-1 output dim.
  const int64_t I = 4, J = 6, L = 11;
  FusedKernel k({I, J, 1, L});
  const int a = k.add_input({I, 1, 1, L});
  const int b = k.add_input({J, 1, 1});
  const int c = k.add_input({});
  const int d = k.add_input({L});
  k.add_output(k.add(k.sub(k.mul(k.load(a), k.load(b)), k.load(c)), k.load(d)));
  KernelFn f = memory_jit().compile(k);
  auto as = random_floats(I * L, -2, 2, 1), bs = random_floats(J, -2, 2, 2), ds = random_floats(L, -2, 2, 4);
  const float cs = 0.75f;
  std::vector<float> out(k.numel());
  run(f, {as.data(), bs.data(), &cs, ds.data()}, {out.data()}, 0, k.numel());
  for (int64_t i = 0; i < I; ++i)
    for (int64_t j = 0; j < J; ++j)
      for (int64_t l = 0; l < L; ++l)
        ASSERT_TRUE(same_bits(out[(i * J + j) * L + l], as[i * L + l] * bs[j] - cs + ds[l])) << i << " " << j << " " << l;
}

TEST(CodegenShapes, SplitRangesGiveIdenticalResults) {
  // Transcendentals and broadcasts included: the split must not change a single bit.
  const int64_t R = 37, C = 129;
  FusedKernel k({R, C});
  const int x = k.add_input({R, C});
  const int b = k.add_input({R, 1});
  const int x_v = k.load(x);
  const int t = k.add(k.unary(ScalarOp::kTanh, x_v), k.unary(ScalarOp::kExp, k.load(b)));
  k.add_output(k.fma(t, x_v, k.constant(0.5f)));
  k.add_output(k.unary(ScalarOp::kSigmoid, t));
  KernelFn f = memory_jit().compile(k);
  auto xs = random_floats(R * C, -3, 3), bs = random_floats(R, -3, 3, 9);
  const int64_t n = k.numel();
  std::vector<float> whole0(n), whole1(n);
  run(f, {xs.data(), bs.data()}, {whole0.data(), whole1.data()}, 0, n);
  std::mt19937 rng(kSeed);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<int64_t> cuts = {0, n};
    const int pieces = 1 + trial % 7;
    for (int p = 0; p < pieces; ++p) cuts.push_back(std::uniform_int_distribution<int64_t>(0, n)(rng));
    std::sort(cuts.begin(), cuts.end());
    std::vector<float> o0(n, NAN), o1(n, NAN);
    for (size_t p = 0; p + 1 < cuts.size(); ++p) run(f, {xs.data(), bs.data()}, {o0.data(), o1.data()}, cuts[p], cuts[p + 1]);
    for (int64_t e = 0; e < n; ++e) {
      ASSERT_TRUE(same_bits(o0[e], whole0[e]) && same_bits(o1[e], whole1[e])) << "trial " << trial << " element " << e;
    }
  }
  // And the values are right (in double; the inline tanh/exp are within a few ulp).
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const double x = xs[r * C + c], tt = std::tanh(x) + std::exp(double(bs[r]));
      ASSERT_NEAR(whole0[r * C + c], tt * x + 0.5, 1e-6 * (std::fabs(tt * x) + 0.5)) << r << " " << c;
      ASSERT_NEAR(whole1[r * C + c], 1.0 / (1.0 + std::exp(-tt)), 1e-6) << r << " " << c;
    }
}

TEST(CodegenShapes, ContiguousKernelIsVectorised) {
  // The O3 pipeline for this CPU turns the inner loop into vector code of the CPU's width.
  const std::string ir = memory_jit().optimized_ir(bias_relu(64, 1000));
  EXPECT_TRUE(has_host_vector_width(ir)) << memory_jit().target_description() << "\n" << ir;
  // No runtime alias checks were needed (the loop is declared parallel): no "memcheck" blocks.
  EXPECT_EQ(ir.find("vector.memcheck"), std::string::npos) << ir;
  // Inline math vectorises too (no libm call left); with glibc calls the loop stays scalar.
  FusedKernel s({4096});
  const int sx = s.load(s.add_input({4096}));
  const int sig = s.unary(ScalarOp::kSigmoid, sx);
  s.add_output(s.add(sig, s.unary(ScalarOp::kLog, s.unary(ScalarOp::kTanh, sx))));
  const std::string vir = memory_jit().optimized_ir(s);
  EXPECT_TRUE(has_host_vector_width(vir)) << vir;
  EXPECT_EQ(vir.find("call float @expf"), std::string::npos);
  const std::string sir = libm_jit().optimized_ir(s);
  EXPECT_NE(sir.find("@llvm.exp.f32"), std::string::npos) << sir;  // a libm call after codegen
}

// ---- realistic fused chains ---------------------------------------------------------------------------

TEST(CodegenChains, BatchNormApplyRelu) {
  // y = relu((x - mean) * invstd * gamma + beta); x: [N, C, H, W], the rest [1, C, 1, 1].
  const int64_t N = 4, C = 16, H = 13, W = 13;
  FusedKernel k({N, C, H, W});
  const int x = k.add_input({N, C, H, W});
  const std::vector<int64_t> ch = {1, C, 1, 1};
  const int mean = k.add_input(ch), invstd = k.add_input(ch), gamma = k.add_input(ch), beta = k.add_input(ch);
  const int norm = k.mul(k.mul(k.sub(k.load(x), k.load(mean)), k.load(invstd)), k.load(gamma));
  k.add_output(k.relu(k.add(norm, k.load(beta))));
  KernelFn f = memory_jit().compile(k);
  auto xs = random_floats(N * C * H * W, -3, 3, 1), ms = random_floats(C, -1, 1, 2), is = random_floats(C, 0.5, 2, 3),
       gs = random_floats(C, 0.5, 1.5, 4), bs = random_floats(C, -0.5, 0.5, 5);
  std::vector<float> out(xs.size());
  run(f, {xs.data(), ms.data(), is.data(), gs.data(), bs.data()}, {out.data()}, 0, k.numel());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H * W; ++i) {
        const int64_t e = (n * C + c) * H * W + i;
        const float want = std::max((xs[e] - ms[c]) * is[c] * gs[c] + bs[c], 0.0f);
        ASSERT_TRUE(same_bits(out[e], want)) << e;
      }
}

TEST(CodegenChains, ReluGradMask) {
  // dx = y > 0 ? dy : 0 (ReluGrad), in place over dy.
  const int64_t n = 5001;
  FusedKernel k({n});
  const int dy = k.add_input({n}), y = k.add_input({n});
  const int zero = k.constant(0.0f);
  k.add_output(k.select(k.greater(k.load(y), zero), k.load(dy), zero));
  KernelFn f = memory_jit().compile(k);
  auto dys = random_floats(n, -1, 1, 1), ys = random_floats(n, -1, 1, 2);
  const auto dys0 = dys;
  run(f, {dys.data(), ys.data()}, {dys.data()}, 0, n);
  for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(same_bits(dys[i], ys[i] > 0 ? dys0[i] : 0.0f)) << i;
}

TEST(CodegenChains, SgdMomentumUpdateInPlace) {
  // torch.optim.SGD: g' = g + wd * w; v = mu * v + g'; w = w - lr * v. Both states in place;
  // lr, mu, wd are runtime scalars (a schedule never recompiles).
  const int64_t n = 100003;
  FusedKernel k({n});
  const int w = k.add_input({n}), v = k.add_input({n}), g = k.add_input({n});
  const int lr = k.add_input({}), mu = k.add_input({}), wd = k.add_input({});
  const int w_v = k.load(w);
  const int v_new = k.add(k.mul(k.load(mu), k.load(v)), k.add(k.load(g), k.mul(k.load(wd), w_v)));
  k.add_output(v_new);
  k.add_output(k.sub(w_v, k.mul(k.load(lr), v_new)));
  KernelFn f = memory_jit().compile(k);
  auto ws = random_floats(n, -1, 1, 1), vs = random_floats(n, -0.1f, 0.1f, 2), gs = random_floats(n, -0.01f, 0.01f, 3);
  const float lr_v = 0.05f, mu_v = 0.9f, wd_v = 1e-4f;
  auto w_ref = ws, v_ref = vs;
  for (int step = 0; step < 3; ++step) {
    for (int64_t i = 0; i < n; ++i) {
      v_ref[i] = mu_v * v_ref[i] + (gs[i] + wd_v * w_ref[i]);
      w_ref[i] = w_ref[i] - lr_v * v_ref[i];
    }
    // Two threads' worth of ranges.
    run(f, {ws.data(), vs.data(), gs.data(), &lr_v, &mu_v, &wd_v}, {vs.data(), ws.data()}, 0, n / 2);
    run(f, {ws.data(), vs.data(), gs.data(), &lr_v, &mu_v, &wd_v}, {vs.data(), ws.data()}, n / 2, n);
  }
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(same_bits(vs[i], v_ref[i])) << i;
    ASSERT_TRUE(same_bits(ws[i], w_ref[i])) << i;
  }
}

TEST(CodegenChains, TableParamsMatchTheReferenceInPlace) {
  // The table is read once per call (before the loop); the output overwrites x in place.
  const FusedKernel k = table_kernel();
  KernelFn f = memory_jit().compile(k);
  auto xs = random_floats(21, -3, 3), want = xs;
  const std::vector<float> table = {0.25f, -1.0f, 1.5f, 7.0f, 9.0f};
  std::vector<float> ref(21);
  ir::evaluate_reference(k, std::vector<const float*>{want.data(), table.data()}.data(),
                         std::vector<float*>{ref.data()}.data(), 0, 21);
  run(f, {xs.data(), table.data()}, {xs.data()}, 0, 10);
  run(f, {xs.data(), table.data()}, {xs.data()}, 10, 21);
  for (int i = 0; i < 21; ++i) {
    ASSERT_TRUE(same_bits(xs[i], ref[i])) << i;
    ASSERT_TRUE(same_bits(ref[i], std::fma(want[i], 1.5f, 0.25f))) << i;
  }
}

// ---- the disk cache -----------------------------------------------------------------------------------

FusedKernel cache_kernel() {
  FusedKernel k({3, 1000});
  const int x = k.add_input({3, 1000});
  const int b = k.add_input({3, 1});
  k.add_output(k.unary(ScalarOp::kTanh, k.add(k.load(x), k.load(b))));
  return k;
}

std::vector<float> run_cache_kernel(KernelFn f) {
  auto xs = random_floats(3000, -2, 2), bs = random_floats(3, -1, 1, 5);
  std::vector<float> out(3000);
  run(f, {xs.data(), bs.data()}, {out.data()}, 0, 3000);
  return out;
}

TEST(CodegenCache, SecondJitCompilesNothing) {
  TempDir dir;
  const FusedKernel k = cache_kernel();
  std::vector<float> first;
  {
    Jit jit(JitOptions{.cache_dir = dir.path.string()});
    first = run_cache_kernel(jit.compile(k));
    EXPECT_EQ(jit.stats().compiled, 1);
    EXPECT_EQ(jit.stats().loaded, 0);
    jit.compile(k);  // the same kernel again: already in this JIT
    EXPECT_EQ(jit.stats().compiled, 1);
    EXPECT_EQ(jit.stats().reused, 1);
  }
  ASSERT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);
  Jit again(JitOptions{.cache_dir = dir.path.string()});
  const auto second = run_cache_kernel(again.compile(k));
  EXPECT_EQ(again.stats().compiled, 0);
  EXPECT_EQ(again.stats().loaded, 1);
  for (size_t i = 0; i < first.size(); ++i) ASSERT_TRUE(same_bits(first[i], second[i])) << i;
  // A different kernel is a different entry.
  FusedKernel other = cache_kernel();
  other.add_output(other.relu(0));
  again.compile(other);
  EXPECT_EQ(again.stats().compiled, 1);
}

TEST(CodegenCache, NewProcessCompilesNothing) {
  TempDir dir;
  {
    Jit jit(JitOptions{.cache_dir = dir.path.string()});
    jit.compile(cache_kernel());
    ASSERT_EQ(jit.stats().compiled, 1);
  }
  // This test binary again, running only the child test below, with the cache chosen through the
  // environment as fcrun would.
  const fs::path report = dir.path / "child_report.txt";
  const std::string cmd = "FC_KERNEL_CACHE='" + dir.path.string() + "' FC_CODEGEN_CHILD_REPORT='" + report.string() +
                          "' /proc/" + std::to_string(::getpid()) +
                          "/exe --gtest_filter=CodegenCacheChild.CompileFromCache > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(report);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "compiled 0 loaded 1");
}

TEST(CodegenCacheChild, CompileFromCache) {
  const char* report = std::getenv("FC_CODEGEN_CHILD_REPORT");
  if (!report) GTEST_SKIP() << "runs only as the child of CodegenCache.NewProcessCompilesNothing";
  Jit jit;  // default directory: $FC_KERNEL_CACHE
  const auto out = run_cache_kernel(jit.compile(cache_kernel()));
  EXPECT_EQ(out.size(), 3000u);
  std::ofstream(report) << "compiled " << jit.stats().compiled << " loaded " << jit.stats().loaded << "\n";
}

TEST(CodegenCache, DamagedOrForeignFilesAreRecompiled) {
  TempDir dir;
  const FusedKernel k = cache_kernel();
  std::vector<float> good;
  {
    Jit jit(JitOptions{.cache_dir = dir.path.string()});
    good = run_cache_kernel(jit.compile(k));
  }
  const fs::path file = fs::directory_iterator(dir.path)->path();
  const auto size = fs::file_size(file);
  // Truncated: the object part is cut short.
  fs::resize_file(file, size - size / 3);
  {
    Jit jit(JitOptions{.cache_dir = dir.path.string()});
    const auto out = run_cache_kernel(jit.compile(k));
    EXPECT_EQ(jit.stats().compiled, 1);
    EXPECT_EQ(out, good);
  }
  EXPECT_EQ(fs::file_size(file), size);  // rewritten whole
  // Another kernel's text under this name (as a hash collision would be): not used.
  std::string data;
  {
    std::ifstream in(file, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto pos = data.find("tanh");
  ASSERT_NE(pos, std::string::npos);
  data.replace(pos, 4, "relu");
  std::ofstream(file, std::ios::binary) << data;
  Jit jit(JitOptions{.cache_dir = dir.path.string()});
  EXPECT_EQ(run_cache_kernel(jit.compile(k)), good);
  EXPECT_EQ(jit.stats().compiled, 1);
  EXPECT_EQ(jit.stats().loaded, 0);
}

// The cache key follows the IR emitted for a kernel, not only its text and a hand-kept emitter
// version: the same kernel text emitted two ways (inline math and libm calls) gets two different IR
// hashes, and the description of one kernel is the same each time it is asked for.
TEST(CodegenCache, KeyFollowsTheEmittedIr) {
  const FusedKernel k = cache_kernel();  // holds a tanh: inline polynomial or a call to tanhf
  const std::string a = memory_jit().cache_description(k), b = libm_jit().cache_description(k);
  auto ir_line = [](const std::string& d) { return d.substr(d.rfind("\nir=")); };
  auto kernel_part = [](const std::string& d) { return d.substr(d.find('\n'), d.rfind("\nir=") - d.find('\n')); };
  EXPECT_EQ(ir_line(a).size(), 4u + 16u);
  EXPECT_NE(ir_line(a), ir_line(b));
  EXPECT_EQ(kernel_part(a), kernel_part(b));
  EXPECT_EQ(kernel_part(a), "\n" + k.to_text());
  EXPECT_EQ(a, memory_jit().cache_description(k));
}

TEST(CodegenCache, DefaultDirectoryFollowsEnvironment) {
  const char* old = std::getenv("FC_KERNEL_CACHE");
  const std::string saved = old ? old : "";
  ::setenv("FC_KERNEL_CACHE", "/tmp/somewhere/kernels", 1);
  EXPECT_EQ(Jit::default_cache_dir(), "/tmp/somewhere/kernels");
  ::unsetenv("FC_KERNEL_CACHE");
  EXPECT_NE(Jit::default_cache_dir().find("fcc/kernels"), std::string::npos);
  if (old) ::setenv("FC_KERNEL_CACHE", saved.c_str(), 1);
  EXPECT_NE(memory_jit().target_description().find("llvm=14"), std::string::npos);
}

TEST(CodegenCache, UnwritableCacheIsNotAnError) {
  Jit jit(JitOptions{.cache_dir = "/proc/fc_codegen_no_such_dir"});
  const auto out = run_cache_kernel(jit.compile(cache_kernel()));
  EXPECT_EQ(jit.stats().compiled, 1);
  EXPECT_EQ(jit.stats().write_failures, 1);
}

// ---- PTX ------------------------------------------------------------------------------------------------

TEST(CodegenPtx, BiasReluIsAValidKernel) {
  const std::string ptx = emit_ptx(bias_relu(64, 1000), "bias_relu");
  EXPECT_NE(ptx.find(".visible .entry bias_relu("), std::string::npos) << ptx;
  EXPECT_NE(ptx.find("%ctaid.x"), std::string::npos);
  EXPECT_NE(ptx.find(".target sm_75"), std::string::npos);
  expect_ptxas_accepts(ptx, "bias_relu");
}

TEST(CodegenPtx, EveryOpAssembles) {
  // One kernel using every op, transcendentals from libdevice included, and a second output.
  const int64_t n = 1024;
  FusedKernel k({8, n});
  const int a = k.load(k.add_input({8, n}));
  const int b = k.load(k.add_input({1, n}));
  const int c = k.load(k.add_input({}));
  int acc = a;
  for (const OpCase& op : op_cases()) acc = k.add(acc, op.build(k, acc, b, c));
  k.add_output(acc);
  k.add_output(k.unary(ScalarOp::kSigmoid, a));
  const std::string ptx = emit_ptx(k, "every_op");
  EXPECT_NE(ptx.find(".visible .entry every_op("), std::string::npos);
  EXPECT_EQ(ptx.find("__nv_expf"), std::string::npos) << "libdevice should be inlined";
  expect_ptxas_accepts(ptx, "every_op");
}

TEST(CodegenPtx, TableParamsAssemble) {
  const std::string ptx = emit_ptx(table_kernel(), "table_fma");
  EXPECT_NE(ptx.find(".visible .entry table_fma("), std::string::npos) << ptx;
  expect_ptxas_accepts(ptx, "table_fma");
}

TEST(CodegenPtx, OptimizerUpdatesAssemble) {
  // The programs the CPU runs for a bucket's SGD-momentum (Nesterov) and AdamW updates, as PTX.
  ir::Graph g;
  auto value = [&](const std::string& name) { return g.add_value(name, {}); };
  ir::Node* sgd = g.add_node("SGDUpdate", {value("w"), value("g"), value("h"), value("b")}, {value("w2"), value("b2")},
                             {{"nesterov", int64_t{1}}}, "sgd");
  ir::Node* adamw = g.add_node("AdamWUpdate", {value("aw"), value("ag"), value("m"), value("v"), value("ah")},
                               {value("w3"), value("m3"), value("v3")}, {}, "adamw");
  for (ir::Node* n : {sgd, adamw}) {
    n->domain = "fc";
    std::vector<std::vector<int64_t>> shapes(n->inputs.size(), {4096});
    shapes[n == sgd ? 2 : 4] = {ir::kHyperSize};
    const std::string name = n->name + "_update";
    const std::string ptx = emit_ptx(ir::node_kernel(*n, shapes, {4096}), name);
    EXPECT_NE(ptx.find(".visible .entry " + name + "("), std::string::npos) << ptx;
    expect_ptxas_accepts(ptx, name);
  }
}

TEST(CodegenPtx, MissingLibdeviceIsAnError) {
  FusedKernel k({4});
  k.add_output(k.unary(ScalarOp::kExp, k.load(k.add_input({4}))));
  EXPECT_THROW(emit_ptx(k, "k", PtxOptions{.libdevice_path = "/nonexistent/libdevice.bc"}), Error);
}

// ---- performance sanity (not a test; run with --gtest_also_run_disabled_tests) -----------------------------

TEST(CodegenBench, DISABLED_JitVersusPlainLoop) {
  const int64_t n = 16 << 20;
  auto x = random_floats(n, -1, 1), y = random_floats(n, -1, 1, 7);
  std::vector<float> out(n);
  auto time = [](auto&& fn) {
    double best = 1e30;
    for (int rep = 0; rep < 7; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      fn();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  FusedKernel relu({n}), add({n});
  relu.add_output(relu.relu(relu.load(relu.add_input({n}))));
  add.add_output(add.add(add.load(add.add_input({n})), add.load(add.add_input({n}))));
  KernelFn frelu = memory_jit().compile(relu), fadd = memory_jit().compile(add);
  const float* xp = x.data();
  const float* yp = y.data();
  float* op = out.data();
  const double t_relu_jit = time([&] { run(frelu, {xp}, {op}, 0, n); });
  const double t_relu_loop = time([&] {
    for (int64_t i = 0; i < n; ++i) op[i] = std::max(xp[i], 0.0f);
  });
  const double t_add_jit = time([&] { run(fadd, {xp, yp}, {op}, 0, n); });
  const double t_add_loop = time([&] {
    for (int64_t i = 0; i < n; ++i) op[i] = xp[i] + yp[i];
  });
  auto gbs = [&](double t, int arrays) { return arrays * n * 4.0 / t / 1e9; };
  std::printf("16M floats, best of 7, one thread (GB/s counts bytes read + written)\n");
  std::printf("relu: jit %.2f ms (%.1f GB/s), plain loop %.2f ms (%.1f GB/s)\n", t_relu_jit * 1e3,
              gbs(t_relu_jit, 2), t_relu_loop * 1e3, gbs(t_relu_loop, 2));
  std::printf("add:  jit %.2f ms (%.1f GB/s), plain loop %.2f ms (%.1f GB/s)\n", t_add_jit * 1e3,
              gbs(t_add_jit, 3), t_add_loop * 1e3, gbs(t_add_loop, 3));
}

}  // namespace
}  // namespace fc::codegen
