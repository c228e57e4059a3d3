// codegen/: fused elementwise kernels through LLVM. Every op JIT-compiled against a plain C++ loop
// (bitwise where the op is one IEEE operation, in ulps for the libm functions), broadcasting, odd
// sizes, range splits, in-place updates, table inputs, and realistic fused chains (BN-apply + ReLU,
// SGD momentum). Random data comes from a fixed seed printed on failure. Compiled with
// -ffp-contract=off so that the reference loops round exactly as written (codegen_tests.cmake).
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
#include "tests/codegen/codegen_cases.h"
#include "tests/codegen/codegen_test_util.h"

namespace fc::codegen {
namespace {

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

}  // namespace
}  // namespace fc::codegen
