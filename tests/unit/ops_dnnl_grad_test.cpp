// Backward of the oneDNN-backed ops (Conv, pools, Gemm/MatMul, LRN, inference BatchNormalization):
// the gradient rules run through autodiff and the CPU kernels, and every gradient is compared with
// a naive float64 loop written here from the forward definition: conv data/weight/bias gradients
// over groups, strides, asymmetric pads, dilations, auto_pad and 1-D; pool gradients with ceil mode,
// padding, count_include_pad and PyTorch's first-maximum tie rule; matmul batch broadcasting and 1-D
// operands; and a symbolic-batch network whose weight gradient is the sum of per-sample ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ir/op_registry.h"
#include "ops_dnnl_test_util.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

struct Vjp {
  Tensor dy;                      // the seed, random, of the output's shape
  std::map<int, Tensor> grads;    // input index -> gradient
  std::vector<std::string> ops;   // ops of the gradient nodes, "fc.X" for project ops
};

// Gradients of <dy, op(inputs)> with respect to inputs `wrt` (all inputs are parameters).
Vjp vjp(const std::string& op, const std::vector<Tensor>& inputs, const Attrs& attrs, const std::vector<int>& wrt,
        int threads = 1) {
  Graph g;
  std::vector<Value*> ins;
  for (size_t i = 0; i < inputs.size(); ++i)
    ins.push_back(inputs[i].defined() ? g.add_param("in" + std::to_string(i), inputs[i]) : nullptr);
  Value* y = g.add_value("y", {});
  g.add_node(op, ins, {y}, attrs, "fwd");
  infer_graph_types(g);
  std::mt19937 rng(7);
  Vjp r;
  r.dy = test::random_tensor(y->type.sizes(), rng);
  std::vector<Value*> want;
  for (int i : wrt) want.push_back(ins[i]);
  const size_t forward_nodes = g.nodes().size();
  passes::Gradients gr = passes::build_vjp(g, {{y, g.add_param("dy", r.dy)}}, want);
  for (size_t i = forward_nodes; i < g.nodes().size(); ++i) {
    const Node& n = *g.nodes()[i];
    r.ops.push_back(n.domain.empty() ? n.op : n.domain + "." + n.op);
  }
  for (int i : wrt) g.outputs.push_back(gr.of.at(ins[i]));
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor ex(g, cpu);
  auto out = ex.run({});
  for (size_t k = 0; k < wrt.size(); ++k) r.grads[wrt[k]] = out.at(g.outputs[k]->name);
  return r;
}

bool has_op(const Vjp& v, const std::string& op) { return std::find(v.ops.begin(), v.ops.end(), op) != v.ops.end(); }

// ---- Conv ------------------------------------------------------------------------------------

// 2-D geometry of the reference (pads resolved by hand); 1-D cases use H = KH = 1.
struct Conv2d {
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t group = 1;
};

struct ConvGrads {
  std::vector<double> dx, dw, db;
};

// x: [N, C, H, W], w: [M, C/G, KH, KW], dy: [N, M, OH, OW] -> dx, dw, db ([M])
ConvGrads conv_grad_ref(const Tensor& x, const Tensor& w, const Tensor& dy, const Conv2d& p) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t m = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  const int64_t oh = dy.dim(2), ow = dy.dim(3), mg = m / p.group;
  ConvGrads r{std::vector<double>(x.numel()), std::vector<double>(w.numel()), std::vector<double>(m)};
  for (int64_t in = 0; in < n; ++in)
    for (int64_t om = 0; om < m; ++om)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const double g = test::at(dy, ((in * m + om) * oh + i) * ow + j);
          r.db[om] += g;
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t a = 0; a < kh; ++a)
              for (int64_t e = 0; e < kw; ++e) {
                const int64_t yy = i * p.sh - p.pt + a * p.dh, xx = j * p.sw - p.pl + e * p.dw;
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                const int64_t xi = ((in * c + om / mg * cg + ic) * h + yy) * wd + xx;
                const int64_t wi = ((om * cg + ic) * kh + a) * kw + e;
                r.dx[xi] += g * test::at(w, wi);
                r.dw[wi] += g * test::at(x, xi);
              }
        }
  return r;
}

struct ConvCase {
  std::string name;
  Ints x, w;  // ONNX shapes (rank 3 or 4)
  Conv2d ref;
  Attrs attrs;
};

std::vector<ConvCase> conv_cases() {
  return {
      {"groups, strides, dilations, asymmetric pads", {2, 4, 7, 6}, {6, 2, 3, 2}, {2, 1, 1, 2, 1, 0, 2, 1, 2},
       {{"group", int64_t{2}}, {"strides", Ints{2, 1}}, {"dilations", Ints{1, 2}}, {"pads", Ints{1, 0, 2, 1}}}},
      // H: out 3, total pad 1 -> (1, 0); W: out 3, total pad 2 -> (1, 1).
      {"depthwise SAME_LOWER stride 2", {1, 3, 6, 5}, {3, 1, 3, 3}, {2, 2, 1, 1, 1, 1, 0, 1, 3},
       {{"group", int64_t{3}}, {"auto_pad", std::string("SAME_LOWER")}, {"strides", Ints{2, 2}}}},
      {"blocked layouts (16 -> 32 channels)", {2, 16, 9, 10}, {32, 16, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1},
       {{"pads", Ints{1, 1, 1, 1}}}},
      {"stride leaves rows untouched", {1, 2, 6, 6}, {2, 2, 2, 2}, {3, 3, 1, 1, 0, 0, 0, 0, 1}, {{"strides", Ints{3, 3}}}},
      {"1-D dilated strided padded", {2, 3, 9}, {4, 3, 3}, {1, 2, 1, 2, 0, 1, 0, 2, 1},
       {{"strides", Ints{2}}, {"dilations", Ints{2}}, {"pads", Ints{1, 2}}}},
  };
}

Tensor as_2d(const Tensor& t) {
  if (t.rank() == 4) return t;
  return t.reshaped({t.dim(0), t.dim(1), 1, t.dim(2)});
}

TEST(DnnlConvGrad, DataWeightAndBiasGradientsMatchReference) {
  for (const ConvCase& cc : conv_cases()) {
    SCOPED_TRACE(cc.name);
    std::mt19937 rng(3);
    Tensor x = test::random_tensor(cc.x, rng), w = test::random_tensor(cc.w, rng);
    Tensor b = test::random_tensor({cc.w[0]}, rng);
    Vjp v = vjp("Conv", {x, w, b}, cc.attrs, {0, 1, 2});
    EXPECT_TRUE(has_op(v, "fc.ConvGradData") && has_op(v, "fc.ConvGradWeight"));
    const ConvGrads ref = conv_grad_ref(as_2d(x), as_2d(w), as_2d(v.dy), cc.ref);
    test::expect_close(v.grads[0], cc.x, ref.dx, 1e-5);
    test::expect_close(v.grads[1], cc.w, ref.dw, 1e-5);
    test::expect_close(v.grads[2], {cc.w[0]}, ref.db, 1e-5);
  }
}

TEST(DnnlConvGrad, PartialGradientsTakeTheCheapestPath) {
  const ConvCase cc = conv_cases()[0];
  std::mt19937 rng(4);
  Tensor x = test::random_tensor(cc.x, rng), w = test::random_tensor(cc.w, rng);
  Tensor b = test::random_tensor({cc.w[0]}, rng);
  // Bias only: a ReduceSum of dy, no weight-gradient convolution.
  Vjp bias = vjp("Conv", {x, w, b}, cc.attrs, {2});
  EXPECT_FALSE(has_op(bias, "fc.ConvGradWeight"));
  EXPECT_FALSE(has_op(bias, "fc.ConvGradData"));
  EXPECT_TRUE(has_op(bias, "ReduceSum"));
  test::expect_close(bias.grads[2], {cc.w[0]}, conv_grad_ref(x, w, bias.dy, cc.ref).db, 1e-5);
  // Weight only, with a bias present: one-output fc.ConvGradWeight.
  Vjp weight = vjp("Conv", {x, w, b}, cc.attrs, {1});
  EXPECT_EQ(weight.ops, std::vector<std::string>{"fc.ConvGradWeight"});
  test::expect_close(weight.grads[1], cc.w, conv_grad_ref(x, w, weight.dy, cc.ref).dw, 1e-5);
  // Input only, no bias.
  Vjp data = vjp("Conv", {x, w}, cc.attrs, {0});
  EXPECT_EQ(data.ops, std::vector<std::string>{"fc.ConvGradData"});
  test::expect_close(data.grads[0], cc.x, conv_grad_ref(x, w, data.dy, cc.ref).dx, 1e-5);
}

// ---- Pools -----------------------------------------------------------------------------------

struct Pool2d {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
};

enum class Mode { Max, AvgExcludePad, AvgIncludePad };

// x: [N, C, H, W], dy: [N, C, OH, OW] -> dx. Max: the first maximum in row-major window order
// gets dy. Averages: PyTorch's divisor, the window clipped to the input (exclude) or to the input
// and its declared padding (include).
std::vector<double> pool_grad_ref(const Tensor& x, const Tensor& dy, const Pool2d& p, Mode mode) {
  const int64_t nc = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3), oh = dy.dim(2), ow = dy.dim(3);
  std::vector<double> dx(x.numel());
  for (int64_t q = 0; q < nc; ++q)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        const int64_t h0 = i * p.sh - p.pt, w0 = j * p.sw - p.pl;
        const double g = test::at(dy, (q * oh + i) * ow + j);
        std::vector<int64_t> taps;
        for (int64_t a = 0; a < p.kh; ++a)
          for (int64_t e = 0; e < p.kw; ++e) {
            const int64_t yy = h0 + a * p.dh, xx = w0 + e * p.dw;
            if (yy >= 0 && yy < h && xx >= 0 && xx < w) taps.push_back((q * h + yy) * w + xx);
          }
        if (mode == Mode::Max) {
          int64_t best = taps[0];
          for (int64_t t : taps)
            if (test::at(x, t) > test::at(x, best)) best = t;
          dx[best] += g;
          continue;
        }
        double div = double(taps.size());
        if (mode == Mode::AvgIncludePad)
          div = double((std::min(h0 + p.kh, h + p.pb) - h0) * (std::min(w0 + p.kw, w + p.pr) - w0));
        for (int64_t t : taps) dx[t] += g / div;
      }
  return dx;
}

struct PoolCase {
  std::string name, op;
  Ints x;
  Pool2d ref;
  Mode mode;
  Attrs attrs;
};

TEST(DnnlPoolGrad, WindowPoolsMatchReference) {
  const std::vector<PoolCase> cases = {
      {"max 3x3/2, pads, ceil extension", "MaxPool", {2, 3, 6, 6}, {3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, Mode::Max,
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}, {"ceil_mode", int64_t{1}}}},
      // Stride 1 over rows wider than 8 outputs: MaxPoolGrad's 8-lane path and its scalar edges.
      {"max 3x3/1, pads, wide rows", "MaxPool", {2, 3, 9, 21}, {3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, Mode::Max,
       {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}}},
      {"max dilated overlapping", "MaxPool", {1, 2, 5, 6}, {2, 2, 1, 1, 2, 2}, Mode::Max,
       {{"kernel_shape", Ints{2, 2}}, {"dilations", Ints{2, 2}}}},
      {"avg include pad, ceil extension", "AveragePool", {1, 2, 6, 5}, {3, 2, 2, 2, 1, 1, 1, 1, 1, 0},
       Mode::AvgIncludePad,
       {{"kernel_shape", Ints{3, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 0}}, {"ceil_mode", int64_t{1}},
        {"count_include_pad", int64_t{1}}}},
      {"avg include pad, no extension", "AveragePool", {1, 2, 5, 5}, {3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
       Mode::AvgIncludePad,
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}},
        {"count_include_pad", int64_t{1}}}},
      {"avg exclude pad, ceil extension", "AveragePool", {2, 2, 6, 5}, {3, 2, 2, 2, 1, 1, 1, 1, 1, 0},
       Mode::AvgExcludePad,
       {{"kernel_shape", Ints{3, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 0}}, {"ceil_mode", int64_t{1}}}},
      // 1-D SAME_UPPER, k 4, s 3 on 7: out 3, total pad 3 -> (1, 2).
      {"avg 1-D SAME_UPPER", "AveragePool", {2, 2, 7}, {1, 4, 1, 3, 1, 1, 0, 1, 0, 2}, Mode::AvgExcludePad,
       {{"kernel_shape", Ints{4}}, {"strides", Ints{3}}, {"auto_pad", std::string("SAME_UPPER")}}},
  };
  for (const PoolCase& pc : cases) {
    SCOPED_TRACE(pc.name);
    std::mt19937 rng(5);
    Tensor x = test::random_tensor(pc.x, rng);
    Vjp v = vjp(pc.op, {x}, pc.attrs, {0});
    EXPECT_EQ(v.ops, std::vector<std::string>{"fc." + pc.op + "Grad"});
    test::expect_close(v.grads[0], pc.x, pool_grad_ref(as_2d(x), as_2d(v.dy), pc.ref, pc.mode), 1e-6);
  }
}

TEST(DnnlPoolGrad, MaxPoolTiesGoToTheFirstMaximumInWindowOrder) {
  // Equal values everywhere: every window's gradient lands on its top-left tap (rows of 19
  // outputs: the 8-lane path and the scalar one).
  Tensor x(DType::F32, {1, 1, 4, 20});
  Vjp v = vjp("MaxPool", {x}, {{"kernel_shape", Ints{2, 2}}}, {0});
  ASSERT_EQ(v.dy.dims(), (Ints{1, 1, 3, 19}));
  std::vector<double> want(80, 0.0);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 19; ++j) want[i * 20 + j] = test::at(v.dy, i * 19 + j);
  test::expect_close(v.grads[0], {1, 1, 4, 20}, want, 0.0);
}

TEST(DnnlPoolGrad, MaxPoolSendsAWindowsGradientToItsNaN) {
  // PyTorch's rule: a NaN counts as the maximum (oneDNN's workspace would skip it; such an x takes
  // the direct loop). x = 0..15 row-major, a NaN at (1, 1): windows 2x2/1 that hold it send dy there.
  std::vector<float> values(16);
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i);
  values[5] = std::nanf("");
  Tensor x = Tensor::from_vector<float>({1, 1, 4, 4}, values);
  Vjp v = vjp("MaxPool", {x}, {{"kernel_shape", Ints{2, 2}}}, {0});
  ASSERT_EQ(v.dy.dims(), (Ints{1, 1, 3, 3}));
  std::vector<double> want(16, 0.0);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      const bool holds_nan = i <= 1 && j <= 1;  // windows starting at rows/cols 0..1 cover (1, 1)
      want[holds_nan ? 5 : (i + 1) * 4 + j + 1] += test::at(v.dy, i * 3 + j);
    }
  test::expect_close(v.grads[0], {1, 1, 4, 4}, want, 0.0);
}

TEST(DnnlPoolGrad, GlobalPoolsMatchReference) {
  std::mt19937 rng(6);
  Tensor x = test::random_tensor({2, 3, 4, 5}, rng);
  Vjp avg = vjp("GlobalAveragePool", {x}, {}, {0});
  test::expect_close(avg.grads[0], x.dims(), pool_grad_ref(x, avg.dy, {4, 5, 1, 1}, Mode::AvgExcludePad), 1e-6);
  Vjp max = vjp("GlobalMaxPool", {x}, {}, {0});
  test::expect_close(max.grads[0], x.dims(), pool_grad_ref(x, max.dy, {4, 5, 1, 1}, Mode::Max), 1e-6);
}

// ---- Gemm / MatMul ---------------------------------------------------------------------------

// Numpy matmul gradients: a, b promoted to [.., M, K] / [.., K, N] with batch axes broadcast.
void matmul_grad_ref(const Tensor& a, const Tensor& b, const Tensor& dy, std::vector<double>& da,
                     std::vector<double>& db) {
  Ints ad = a.dims(), bd = b.dims();
  if (ad.size() == 1) ad.insert(ad.begin(), 1);
  if (bd.size() == 1) bd.push_back(1);
  const size_t r = std::max(ad.size(), bd.size());
  ad.insert(ad.begin(), r - ad.size(), 1);
  bd.insert(bd.begin(), r - bd.size(), 1);
  const int64_t m = ad[r - 2], k = ad[r - 1], n = bd[r - 1];
  Ints batch(r - 2);
  for (size_t i = 0; i + 2 < r; ++i) batch[i] = std::max(ad[i], bd[i]);
  int64_t total = 1;
  for (int64_t s : batch) total *= s;
  da.assign(a.numel(), 0.0);
  db.assign(b.numel(), 0.0);
  // Row-major batch strides of each operand; 0 along its broadcast (size-1) axes.
  Ints a_str(r - 2), b_str(r - 2);
  for (int64_t i = int64_t(r) - 3, sa = 1, sb = 1; i >= 0; --i) {
    a_str[i] = ad[i] == 1 ? 0 : sa;
    b_str[i] = bd[i] == 1 ? 0 : sb;
    sa *= ad[i];
    sb *= bd[i];
  }
  for (int64_t t = 0; t < total; ++t) {
    int64_t ai = 0, bi = 0, rest = t;
    for (int64_t i = int64_t(r) - 3; i >= 0; --i) {
      const int64_t idx = rest % batch[i];
      rest /= batch[i];
      ai += idx * a_str[i];
      bi += idx * b_str[i];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const double g = test::at(dy, (t * m + i) * n + j);
        for (int64_t q = 0; q < k; ++q) {
          da[(ai * m + i) * k + q] += g * test::at(b, (bi * k + q) * n + j);
          db[(bi * k + q) * n + j] += g * test::at(a, (ai * m + i) * k + q);
        }
      }
  }
}

TEST(DnnlMatMulGrad, BroadcastBatchesAndVectorsMatchReference) {
  const std::vector<std::pair<Ints, Ints>> shapes = {
      {{3, 4}, {4, 5}},       {{2, 3, 4}, {4, 5}},  {{2, 1, 3, 4}, {3, 4, 5}}, {{3, 4}, {2, 4, 5}},
      {{5, 3, 4}, {5, 4, 2}}, {{4}, {2, 4, 3}},     {{2, 3, 4}, {4}},          {{4}, {4}},
      {{2, 2, 3, 4}, {4, 3}},
  };
  for (const auto& [as, bs] : shapes) {
    SCOPED_TRACE(::testing::PrintToString(as) + " x " + ::testing::PrintToString(bs));
    std::mt19937 rng(8);
    Tensor a = test::random_tensor(as, rng), b = test::random_tensor(bs, rng);
    Vjp v = vjp("MatMul", {a, b}, {}, {0, 1});
    std::vector<double> da, db;
    matmul_grad_ref(a, b, v.dy, da, db);
    test::expect_close(v.grads[0], as, da, 1e-5);
    test::expect_close(v.grads[1], bs, db, 1e-5);
  }
}

TEST(DnnlGemmGrad, TransposesAlphaBetaAndCBroadcastMatchReference) {
  struct GemmCase {
    Ints c;  // shape of C (empty vector with has_c = false: no C)
    bool has_c;
    int64_t ta, tb;
    float alpha, beta;
  };
  const int64_t m = 3, k = 5, n = 4;
  for (const GemmCase& gc : std::vector<GemmCase>{{{m, n}, true, 0, 0, 1.0f, 1.0f},
                                                   {{1, n}, true, 1, 1, 0.7f, 1.3f},
                                                   {{m, 1}, true, 1, 0, 1.0f, -2.0f},
                                                   {{}, true, 0, 1, 2.0f, 0.5f},
                                                   {{}, false, 1, 1, 1.5f, 1.0f}}) {
    SCOPED_TRACE("transA " + std::to_string(gc.ta) + " transB " + std::to_string(gc.tb) + " C rank " +
                 std::to_string(gc.c.size()));
    std::mt19937 rng(9);
    Tensor a = test::random_tensor(gc.ta ? Ints{k, m} : Ints{m, k}, rng);
    Tensor b = test::random_tensor(gc.tb ? Ints{n, k} : Ints{k, n}, rng);
    Tensor c = gc.has_c ? test::random_tensor(gc.c, rng) : Tensor();
    Attrs attrs{{"transA", gc.ta}, {"transB", gc.tb}, {"alpha", gc.alpha}, {"beta", gc.beta}};
    Vjp v = vjp("Gemm", {a, b, c}, attrs, gc.has_c ? std::vector<int>{0, 1, 2} : std::vector<int>{0, 1});
    std::vector<double> da(a.numel()), db(b.numel()), dc(gc.has_c ? c.numel() : 0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const double g = test::at(v.dy, i * n + j);
        for (int64_t q = 0; q < k; ++q) {
          const int64_t ai = gc.ta ? q * m + i : i * k + q, bi = gc.tb ? j * k + q : q * n + j;
          da[ai] += gc.alpha * g * test::at(b, bi);
          db[bi] += gc.alpha * g * test::at(a, ai);
        }
        if (gc.has_c) {
          const int64_t ci = gc.c.empty() ? 0 : (gc.c[0] == 1 ? 0 : i) * gc.c[1] + (gc.c[1] == 1 ? 0 : j);
          dc[ci] += gc.beta * g;
        }
      }
    test::expect_close(v.grads[0], a.dims(), da, 1e-5);
    test::expect_close(v.grads[1], b.dims(), db, 1e-5);
    if (gc.has_c) test::expect_close(v.grads[2], c.dims(), dc, 1e-5);
  }
}

// ---- LRN, BatchNormalization ------------------------------------------------------------------

TEST(DnnlLrnGrad, MatchesDerivativeOfOnnxFormula) {
  for (int64_t size : {1, 3, 4, 5}) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::mt19937 rng(10);
    const int64_t n = 2, c = 7, s = 300;  // s > one 256-position tile
    Tensor x = test::random_tensor({n, c, s, 1}, rng, -2.0f, 2.0f);
    const double alpha = 0.9, beta = 0.75, bias = 1.5;
    Vjp v = vjp("LRN", {x}, {{"size", size}, {"alpha", float(alpha)}, {"beta", float(beta)}, {"bias", float(bias)}},
                {0}, /*threads=*/4);
    // y_c = x_c * S_c^-beta, S_c = bias + alpha/size * sum_{j in W(c)} x_j^2
    // dx_i = sum_c dy_c dy_c/dx_i = dy_i S_i^-beta - beta * sum_{c: i in W(c)} dy_c x_c S_c^(-beta-1) * 2 alpha/size x_i
    const int64_t lo = (size - 1) / 2, hi = size / 2;
    std::vector<double> dx(x.numel());
    auto idx = [&](int64_t b, int64_t ch, int64_t p) { return (b * c + ch) * s + p; };
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < s; ++p) {
        std::vector<double> S(c);
        for (int64_t ch = 0; ch < c; ++ch) {
          double sum = 0;
          for (int64_t j = std::max<int64_t>(0, ch - lo); j <= std::min(c - 1, ch + hi); ++j)
            sum += test::at(x, idx(b, j, p)) * test::at(x, idx(b, j, p));
          S[ch] = bias + alpha / double(size) * sum;
        }
        for (int64_t ch = 0; ch < c; ++ch) {
          const double g = test::at(v.dy, idx(b, ch, p)), xc = test::at(x, idx(b, ch, p));
          dx[idx(b, ch, p)] += g * std::pow(S[ch], -beta);
          for (int64_t i = std::max<int64_t>(0, ch - lo); i <= std::min(c - 1, ch + hi); ++i)
            dx[idx(b, i, p)] -= g * xc * beta * std::pow(S[ch], -beta - 1) * 2 * alpha / double(size) *
                                test::at(x, idx(b, i, p));
        }
      }
    test::expect_close(v.grads[0], x.dims(), dx, 1e-5);
  }
}

TEST(DnnlBatchNormGrad, InferenceFormGradientsMatchReference) {
  std::mt19937 rng(11);
  const int64_t n = 3, c = 4, s = 5;
  Tensor x = test::random_tensor({n, c, s}, rng), scale = test::random_tensor({c}, rng, 0.5f, 1.5f);
  Tensor bias = test::random_tensor({c}, rng), mean = test::random_tensor({c}, rng);
  Tensor var = test::random_tensor({c}, rng, 0.2f, 2.0f);
  const double eps = 1e-3;
  Vjp v = vjp("BatchNormalization", {x, scale, bias, mean, var}, {{"epsilon", float(eps)}}, {0, 1, 2, 3, 4});
  std::vector<double> dx(x.numel()), dscale(c), db(c), dmean(c), dvar(c);
  for (int64_t ch = 0; ch < c; ++ch) {
    const double is = 1.0 / std::sqrt(test::at(var, ch) + eps), sc = test::at(scale, ch), mu = test::at(mean, ch);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < s; ++p) {
        const int64_t i = (b * c + ch) * s + p;
        const double g = test::at(v.dy, i), xc = test::at(x, i) - mu;
        dx[i] = g * sc * is;
        dscale[ch] += g * xc * is;
        db[ch] += g;
        dmean[ch] -= g * sc * is;
        dvar[ch] += g * sc * xc * -0.5 * is * is * is;
      }
  }
  test::expect_close(v.grads[0], x.dims(), dx, 1e-5);
  test::expect_close(v.grads[1], {c}, dscale, 1e-5);
  test::expect_close(v.grads[2], {c}, db, 1e-5);
  test::expect_close(v.grads[3], {c}, dmean, 1e-5);
  test::expect_close(v.grads[4], {c}, dvar, 1e-5);
}

// ---- A small network with a symbolic batch -----------------------------------------------------

// Conv -> MaxPool -> LRN -> AveragePool -> 1x1 Conv -> GlobalMaxPool -> ReduceSum over x: [N, 3, 8, 8]. The loss sums over
// the batch, so the weight gradients of a batch are the sums of the per-sample ones; each batch size
// builds its own kernels.
TEST(DnnlConvGrad, SymbolicBatchNetworkGradientsSumOverSamples) {
  Graph g;
  std::mt19937 rng(12);
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::known(3), Dim::known(8), Dim::known(8)}));
  g.inputs.push_back(x);
  Value* w = g.add_param("w", test::random_tensor({4, 3, 3, 3}, rng));
  Value* b = g.add_param("b", test::random_tensor({4}, rng));
  Value* fw = g.add_param("fw", test::random_tensor({2, 4, 1, 1}, rng));
  auto node = [&](const std::string& op, std::vector<Value*> in, Attrs attrs) {
    Value* out = g.add_value(g.unique_name(op), {});
    g.add_node(op, std::move(in), {out}, std::move(attrs), g.unique_node_name(op));
    return out;
  };
  Value* y = node("Conv", {x, w, b}, {{"pads", Ints{1, 1, 1, 1}}});
  y = node("MaxPool", {y}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}});
  y = node("LRN", {y}, {{"size", int64_t{3}}, {"alpha", 0.3f}});
  y = node("AveragePool", {y}, {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}});
  y = node("Conv", {y, fw}, {});
  y = node("GlobalMaxPool", {y}, {});
  Value* loss = node("ReduceSum", {y}, {{"keepdims", int64_t{0}}});
  infer_graph_types(g);
  passes::Gradients gr = passes::build_gradients(g, loss, {w, b, fw});
  for (Value* p : {w, b, fw}) {
    ASSERT_TRUE(gr.of.count(p));
    EXPECT_EQ(gr.of[p]->type, p->type);
    g.outputs.push_back(gr.of[p]);
  }
  runtime::cpu::CpuBackend cpu(2);
  runtime::Executor ex(g, cpu);
  Tensor batch = test::random_tensor({3, 3, 8, 8}, rng);
  auto all = ex.run({{"x", batch}});
  std::vector<std::vector<double>> sums(3);
  for (int64_t i = 0; i < 3; ++i) {
    Tensor one(DType::F32, {1, 3, 8, 8});
    std::copy_n(batch.data<float>() + i * one.numel(), one.numel(), one.data<float>());
    auto res = ex.run({{"x", one}});
    for (size_t k = 0; k < 3; ++k) {
      const Tensor& gk = res.at(g.outputs[k]->name);
      sums[k].resize(gk.numel());
      for (size_t e = 0; e < gk.numel(); ++e) sums[k][e] += test::at(gk, e);
    }
  }
  for (size_t k = 0; k < 3; ++k) test::expect_close(all.at(g.outputs[k]->name), all.at(g.outputs[k]->name).dims(), sums[k], 1e-5);
}

}  // namespace
