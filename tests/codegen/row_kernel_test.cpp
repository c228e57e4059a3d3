// Row kernels (ir/fused_kernel.h: row_max, row_sum, column, load_i64): the text form and levels, the
// CPU JIT against the plain C++ evaluator (bit for bit with glibc's exp/log, a few ulps with the
// inline ones) and against double precision, range splits, NaN rows, vectorisation of the output
// pass, and PTX checked by ptxas. The main client is softmax cross-entropy and its gradient
// (ir::softmax_cross_entropy_kernel), which the training step runs as one kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "codegen/jit.h"
#include "codegen/ptx.h"
#include "support/error.h"
#include "ir/fused_kernel.h"
#include "ir/ops/softmax_cross_entropy.h"
#include "tests/codegen/codegen_test_util.h"

namespace fc::codegen {
namespace {

constexpr int64_t kIgnore = -100;

// Logits in [-8, 8] and labels in [0, classes), every fifth row's label ignored.
struct LossData {
  int64_t rows, classes;
  std::vector<float> logits;
  std::vector<int64_t> labels;
  float scale;
  LossData(int64_t r, int64_t c, uint32_t seed) : rows(r), classes(c), scale(0.37f) {
    logits = random_floats(static_cast<size_t>(r * c), -8.0f, 8.0f, seed);
    std::mt19937 rng(seed + 1);
    for (int64_t i = 0; i < r; ++i)
      labels.push_back(i % 5 == 3 ? kIgnore : static_cast<int64_t>(rng() % static_cast<uint32_t>(c)));
  }
  std::vector<const float*> inputs() const {
    return {logits.data(), reinterpret_cast<const float*>(labels.data()), &scale};
  }
};

struct LossOut {
  std::vector<float> loss, grad;
  LossOut(const LossData& d)
      : loss(static_cast<size_t>(d.rows), -1.0f), grad(static_cast<size_t>(d.rows * d.classes), -1.0f) {}
  std::vector<float*> outputs() { return {loss.data(), grad.data()}; }
};

LossOut run_loss(const FusedKernel& k, const LossData& d, KernelFn fn, std::vector<int64_t> cuts = {}) {
  LossOut out(d);
  cuts.insert(cuts.begin(), 0);
  cuts.push_back(d.rows);
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    if (fn) run(fn, d.inputs(), out.outputs(), cuts[i], cuts[i + 1]);
    else evaluate_reference(k, d.inputs().data(), out.outputs().data(), cuts[i], cuts[i + 1]);
  }
  return out;
}

void expect_same_bits(const LossOut& a, const LossOut& b, const std::string& what) {
  for (size_t i = 0; i < a.loss.size(); ++i) ASSERT_TRUE(same_bits(a.loss[i], b.loss[i])) << what << " loss row " << i;
  for (size_t i = 0; i < a.grad.size(); ++i) ASSERT_TRUE(same_bits(a.grad[i], b.grad[i])) << what << " grad " << i;
}

TEST(RowKernel, TextLevelsAndShapes) {
  const FusedKernel k = ir::softmax_cross_entropy_kernel(4, 5, kIgnore, true, true);
  EXPECT_TRUE(k.is_row_kernel());
  EXPECT_EQ(k.range_size(), 4);
  EXPECT_EQ(k.output_shape(0), (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(k.output_shape(1), (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(k.is_i64(1));
  EXPECT_FALSE(k.is_i64(0));
  EXPECT_FALSE(k.is_loaded(2));  // the scale is a table
  const std::vector<bool> row = k.row_level();
  EXPECT_FALSE(row[0]);  // load of the logits: varies along the row
  EXPECT_TRUE(row[1]);   // load_i64 of the [rows, 1] labels: one per row
  EXPECT_FALSE(row[2]);  // column
  EXPECT_TRUE(row[3]);   // row_max
  const std::string text = k.to_text();
  for (const char* op : {"load_i64 1", "column", "row_max %0", "row_sum", "equal"})
    EXPECT_NE(text.find(op), std::string::npos) << op << "\n" << text;
  EXPECT_EQ(FusedKernel::from_text(text), k);
  EXPECT_EQ(FusedKernel::from_body(k.body_text(), {4, 5}, {{4, 5}, {4, 1}, {1}}), k);
  // The row (innermost dim) stays a dim of its own, even of size 1; outer dims still merge.
  FusedKernel r({2, 3, 1});
  r.add_output(r.row_sum(r.load(r.add_input({2, 3, 1}))));
  EXPECT_EQ(make_loop_nest(r).dims, (std::vector<int64_t>{6, 1}));
  EXPECT_EQ(r.range_size(), 6);
  FusedKernel e({2, 3, 1});
  e.add_output(e.load(e.add_input({2, 3, 1})));
  EXPECT_EQ(make_loop_nest(e).dims, (std::vector<int64_t>{6}));
  EXPECT_FALSE(e.is_row_kernel());
}

TEST(RowKernel, ValidateRejectsMixedInputTypesAndScalarRows) {
  FusedKernel mixed({4, 3});
  const int in = mixed.add_input({4, 3});
  mixed.add_output(mixed.add(mixed.load(in), mixed.load_i64(in)));
  EXPECT_THROW(mixed.validate(), Error);
  FusedKernel scalar(std::vector<int64_t>{});
  scalar.add_output(scalar.row_sum(scalar.load(scalar.add_input({}))));
  EXPECT_THROW(scalar.validate(), Error);
  EXPECT_THROW(FusedKernel::from_text("fused_kernel v1\nout [2,2]\nin 0 [2,2]\n%0 = row_max\nout 0 %0\n"), Error);
}

TEST(RowKernel, SoftmaxCrossEntropyMatchesTheEvaluatorAndDouble) {
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{1, 1}, {3, 10}, {64, 10}, {7, 1000}, {2, 33}, {0, 5}};
  for (auto [rows, classes] : shapes) {
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(classes));
    const LossData d(rows, classes, kSeed + static_cast<uint32_t>(rows * classes));
    const FusedKernel k = ir::softmax_cross_entropy_kernel(rows, classes, kIgnore, true, true);
    const LossOut ref = run_loss(k, d, nullptr);
    // glibc's expf/logf in both: the same operations in the same order, so the same bits.
    expect_same_bits(run_loss(k, d, libm_jit().compile(k)), ref, "libm JIT");
    // Any split of the rows gives the same bits (each row is computed whole, in order).
    const LossOut inline_math = run_loss(k, d, memory_jit().compile(k));
    if (rows > 2) expect_same_bits(run_loss(k, d, memory_jit().compile(k), {1, rows / 2}), inline_math, "split");
    // Against double precision (the inline exp/log are within 1-2 ulp of glibc's).
    for (int64_t i = 0; i < rows; ++i) {
      const float* x = d.logits.data() + i * classes;
      const float* g = inline_math.grad.data() + i * classes;
      if (d.labels[static_cast<size_t>(i)] == kIgnore) {
        EXPECT_EQ(inline_math.loss[static_cast<size_t>(i)], 0.0f) << "ignored row " << i;
        for (int64_t j = 0; j < classes; ++j) ASSERT_EQ(g[j], 0.0f) << "ignored row " << i;
        continue;
      }
      double m = x[0], s = 0;
      for (int64_t j = 0; j < classes; ++j) m = std::max<double>(m, x[j]);
      for (int64_t j = 0; j < classes; ++j) s += std::exp(double(x[j]) - m);
      const int64_t label = d.labels[static_cast<size_t>(i)];
      const double loss = std::log(s) + m - x[label];
      EXPECT_NEAR(inline_math.loss[static_cast<size_t>(i)], loss, 2e-6 * (1 + loss)) << "row " << i;
      for (int64_t j = 0; j < classes; ++j) {
        const double want = (std::exp(double(x[j]) - m) / s - (j == label)) * d.scale;
        ASSERT_NEAR(g[j], want, 1e-6) << "row " << i << " column " << j;
      }
    }
  }
}

TEST(RowKernel, LossOnlyAndGradOnlyProgramsAgreeWithTheFusedOne) {
  const LossData d(16, 10, kSeed);
  const FusedKernel both = ir::softmax_cross_entropy_kernel(16, 10, kIgnore, true, true);
  const LossOut b = run_loss(both, d, memory_jit().compile(both));
  LossOut l(d), g(d);
  const FusedKernel loss = ir::softmax_cross_entropy_kernel(16, 10, kIgnore, true, false);
  const FusedKernel grad = ir::softmax_cross_entropy_kernel(16, 10, kIgnore, false, true);
  EXPECT_EQ(loss.num_outputs(), 1);
  EXPECT_EQ(grad.num_outputs(), 1);
  run(memory_jit().compile(loss), d.inputs(), {l.loss.data()}, 0, 16);
  run(memory_jit().compile(grad), d.inputs(), {g.grad.data()}, 0, 16);
  l.grad = b.grad;
  g.loss = b.loss;
  expect_same_bits(l, b, "loss only");
  expect_same_bits(g, b, "grad only");
}

TEST(RowKernel, SumsAccumulateInDouble) {
  // 2^25, forty ones, -2^25: in float every 1 added to 2^25 is lost (half its spacing of 4); the
  // double accumulation keeps them and rounds the exact 40 once. JIT (inline math or not) and
  // evaluator alike; 100 columns, so lanes, the chunk loop and the unrolled remainder all take part.
  FusedKernel k({2, 100});
  k.add_output(k.row_sum(k.load(k.add_input({2, 100}))));
  std::vector<float> x(200, 0.0f);
  for (int r = 0; r < 2; ++r) {
    x[r * 100] = 33554432.0f;
    for (int j = 1; j <= 40; ++j) x[r * 100 + j * 2] = 1.0f;
    x[r * 100 + 99] = -33554432.0f;
  }
  std::vector<float> ref(2), fast(2), libm(2);
  const float* in[] = {x.data()};
  float* out[] = {ref.data()};
  evaluate_reference(k, in, out, 0, 2);
  run(memory_jit().compile(k), {x.data()}, {fast.data()}, 0, 2);
  run(libm_jit().compile(k), {x.data()}, {libm.data()}, 0, 2);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(ref[r], 40.0f) << r;
    EXPECT_EQ(fast[r], 40.0f) << r;
    EXPECT_EQ(libm[r], 40.0f) << r;
  }
}

TEST(RowKernel, NanRowsPropagateAndStayInTheirRow) {
  LossData d(3, 8, kSeed);
  d.labels = {1, 2, 3};
  d.logits[8 + 5] = std::nanf("");  // row 1
  const FusedKernel k = ir::softmax_cross_entropy_kernel(3, 8, kIgnore, true, true);
  const LossOut out = run_loss(k, d, memory_jit().compile(k));
  EXPECT_TRUE(std::isnan(out.loss[1]));
  EXPECT_FALSE(std::isnan(out.loss[0]));
  EXPECT_FALSE(std::isnan(out.loss[2]));
  for (int j = 0; j < 8; ++j) {
    EXPECT_TRUE(std::isnan(out.grad[8 + j])) << j;
    EXPECT_FALSE(std::isnan(out.grad[j])) << j;
  }
  expect_same_bits(run_loss(k, d, libm_jit().compile(k)), run_loss(k, d, nullptr), "NaN row, libm JIT");
}

// A softmax over the last dim of [2, 3, 4, 5] with a per-channel shift (broadcast along the row: a
// row-level load) and a per-column weight, plus the row maximum as a second, row-level output.
FusedKernel weighted_softmax() {
  FusedKernel k({2, 3, 4, 5});
  const int x = k.load(k.add_input({2, 3, 4, 5}));
  const int shift = k.load(k.add_input({1, 3, 1, 1}));
  const int w = k.load(k.add_input({5}));
  const int y = k.add(x, shift);
  const int m = k.row_max(y);
  const int e = k.unary(ScalarOp::kExp, k.sub(y, m));
  k.add_output(k.mul(k.div(e, k.row_sum(e)), w));
  k.add_output(m);
  return k;
}

TEST(RowKernel, OuterDimsAndBroadcastsMatchTheEvaluator) {
  const FusedKernel k = weighted_softmax();
  EXPECT_EQ(k.range_size(), 24);
  EXPECT_EQ(k.output_shape(1), (std::vector<int64_t>{2, 3, 4, 1}));
  const auto x = random_floats(120, -3, 3, kSeed), shift = random_floats(3, -1, 1, kSeed + 1),
             w = random_floats(5, 0.5f, 2, kSeed + 2);
  const std::vector<const float*> in = {x.data(), shift.data(), w.data()};
  auto eval = [&](KernelFn fn) {
    std::vector<float> y(120), m(24);
    if (fn) run(fn, in, {y.data(), m.data()}, 0, 24);
    else evaluate_reference(k, in.data(), std::vector<float*>{y.data(), m.data()}.data(), 0, 24);
    y.insert(y.end(), m.begin(), m.end());
    return y;
  };
  const std::vector<float> ref = eval(nullptr), libm = eval(libm_jit().compile(k)),
                           fast = eval(memory_jit().compile(k));
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_TRUE(same_bits(libm[i], ref[i])) << i;
    ASSERT_LE(ulp_distance(fast[i], ref[i]), 4) << i;
  }
  // Spot check against the formula: row (1, 2, 3) holds elements 115..119, channel 2.
  double s = 0, mx = -1e30;
  for (int j = 0; j < 5; ++j) mx = std::max<double>(mx, x[115 + j] + shift[2]);
  for (int j = 0; j < 5; ++j) s += std::exp(x[115 + j] + shift[2] - mx);
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(ref[115 + j], std::exp(x[115 + j] + shift[2] - mx) / s * w[j], 1e-6);
  EXPECT_FLOAT_EQ(ref[120 + 23], static_cast<float>(mx));
}

TEST(RowKernel, Int64InputsInElementwiseKernels) {
  // load_i64 outside row kernels: x where the [rows] index equals 3, else 0, over [rows, 9]; the
  // index broadcast along the row. JIT (split anywhere) and PTX.
  const int64_t rows = 37;
  FusedKernel k({rows, 9});
  const int x = k.load(k.add_input({rows, 9}));
  const int index = k.load_i64(k.add_input({rows, 1}));
  k.add_output(k.select(k.equal(index, k.constant(3.0f)), x, k.constant(0.0f)));
  EXPECT_FALSE(k.is_row_kernel());
  const auto xs = random_floats(rows * 9, -1, 1, kSeed);
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < rows; ++i) idx.push_back(i % 4 == 1 ? 3 : (i % 4 == 2 ? -3 : (int64_t{1} << 40)));
  const std::vector<const float*> in = {xs.data(), reinterpret_cast<const float*>(idx.data())};
  std::vector<float> got(rows * 9, -1.0f);
  const KernelFn fn = memory_jit().compile(k);
  run(fn, in, {got.data()}, 0, 100);
  run(fn, in, {got.data()}, 100, rows * 9);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < 9; ++j)
      ASSERT_TRUE(same_bits(got[i * 9 + j], i % 4 == 1 ? xs[i * 9 + j] : 0.0f)) << i << "," << j;
  expect_ptxas_accepts(emit_ptx(k, "masked_by_index"), "masked_by_index");
}

TEST(RowKernel, ReductionsAndOutputPassAreVectorised) {
  // The loop vectoriser widens four loops: the lanes of each of the three reductions (max, sum of
  // exp, the label's logit) and the pass writing the gradient row. Each vectorised loop's metadata
  // ends with the node "llvm.loop.isvectorized".
  const std::string ir = memory_jit().optimized_ir(ir::softmax_cross_entropy_kernel(64, 1000, kIgnore, true, true));
  const size_t at = ir.find("= !{!\"llvm.loop.isvectorized\", i32 1}");
  ASSERT_NE(at, std::string::npos) << ir;
  const std::string node = ir.substr(ir.rfind('\n', at) + 1, ir.find(' ', ir.rfind('\n', at) + 1) - ir.rfind('\n', at) - 1);
  int loops = 0;
  for (size_t p = ir.find("distinct !{"); p != std::string::npos; p = ir.find("distinct !{", p + 1))
    loops += ir.substr(p, ir.find('\n', p) - p).find(", " + node + "}") != std::string::npos;
  EXPECT_EQ(loops, 4) << ir;
  EXPECT_TRUE(has_host_vector_width(ir)) << ir;
  EXPECT_NE(ir.find("llvm.loop.isvectorized"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("vector.memcheck"), std::string::npos) << ir;
}

TEST(RowKernel, PtxAssembles) {
  // One row per thread, the same row code as the CPU's; libdevice's expf/logf inlined.
  const std::string ptx = emit_ptx(ir::softmax_cross_entropy_kernel(64, 1000, kIgnore, true, true), "softmax_ce");
  EXPECT_NE(ptx.find(".visible .entry softmax_ce("), std::string::npos) << ptx;
  EXPECT_EQ(ptx.find("__nv_expf"), std::string::npos) << "libdevice should be inlined";
  expect_ptxas_accepts(ptx, "softmax_ce");
  const std::string generic = emit_ptx(weighted_softmax(), "weighted_softmax");
  expect_ptxas_accepts(generic, "weighted_softmax");
}

}  // namespace
}  // namespace fc::codegen
