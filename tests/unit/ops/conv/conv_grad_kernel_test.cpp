// Conv's backward (fc.ConvGradData, fc.ConvGradWeight) through autodiff and the CPU kernels, against
// naive float64 loops written here from the forward definition: data/weight/bias gradients over
// groups, strides, asymmetric pads, dilations, auto_pad and 1-D; partial gradients taking the
// cheapest path; and a symbolic-batch network whose weight gradient sums the per-sample ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ir/op_registry.h"
#include "ops_dnnl_test_util.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "vjp_test_util.h"

using namespace fc;
using namespace fc::ir;

using fc::test::Vjp;
using fc::test::vjp;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

bool has_op(const Vjp& v, const std::string& op) { return std::find(v.ops.begin(), v.ops.end(), op) != v.ops.end(); }

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
