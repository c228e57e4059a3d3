// Conv on the CPU backend (oneDNN) against a naive float64 convolution loop, over groups,
// depthwise, strides, asymmetric pads, dilations, auto_pad modes, 1x1, 1-D, with and without bias,
// with the weight both as a parameter (reordered at build time) and as a plain input.
#include <gtest/gtest.h>

#include "op_test_util.h"
#include "ops_dnnl_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::ir;

namespace {

// 2-D geometry of the reference; 1-D cases use H = KH = 1.
struct Conv2d {
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t group = 1;
};

// x: [N, C, H, W], w: [M, C/G, KH, KW], b: [M] or null -> y: [N, M, OH, OW]
std::vector<double> conv_ref(const Tensor& x, const Tensor& w, const Tensor* b, const Conv2d& p,
                             std::vector<int64_t>& out_dims) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t m = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  const int64_t oh = (h + p.pt + p.pb - (kh - 1) * p.dh - 1) / p.sh + 1;
  const int64_t ow = (wd + p.pl + p.pr - (kw - 1) * p.dw - 1) / p.sw + 1;
  EXPECT_EQ(c, cg * p.group);
  out_dims = {n, m, oh, ow};
  std::vector<double> y(n * m * oh * ow);
  const int64_t mg = m / p.group;
  for (int64_t in = 0; in < n; ++in)
    for (int64_t om = 0; om < m; ++om)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = b ? test::at(*b, om) : 0.0;
          const int64_t g = om / mg;
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t a = 0; a < kh; ++a)
              for (int64_t e = 0; e < kw; ++e) {
                const int64_t yy = i * p.sh - p.pt + a * p.dh, xx = j * p.sw - p.pl + e * p.dw;
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                acc += test::at(x, ((in * c + g * cg + ic) * h + yy) * wd + xx) *
                       test::at(w, ((om * cg + ic) * kh + a) * kw + e);
              }
          y[((in * m + om) * oh + i) * ow + j] = acc;
        }
  return y;
}

struct ConvCase {
  std::string name;
  std::vector<int64_t> x, w;  // ONNX shapes (rank 3 or 4)
  bool bias;
  Conv2d ref;                 // the geometry the reference uses (pads resolved by hand)
  std::map<std::string, Attribute> attrs;
};

void run_case(const ConvCase& cc, bool weights_as_params) {
  SCOPED_TRACE(cc.name + (weights_as_params ? " (weights as parameters)" : " (weights as inputs)"));
  std::mt19937 rng(1234);
  Tensor x = test::random_tensor(cc.x, rng), w = test::random_tensor(cc.w, rng);
  Tensor b = cc.bias ? test::random_tensor({cc.w[0]}, rng) : Tensor();
  const bool one_d = cc.x.size() == 3;
  // The reference sees 1-D as 2-D with a height of 1.
  Tensor x4 = one_d ? x.reshaped({cc.x[0], cc.x[1], 1, cc.x[2]}) : x;
  Tensor w4 = one_d ? w.reshaped({cc.w[0], cc.w[1], 1, cc.w[2]}) : w;
  std::vector<int64_t> dims;
  std::vector<double> want = conv_ref(x4, w4, cc.bias ? &b : nullptr, cc.ref, dims);
  if (one_d) dims.erase(dims.begin() + 2);
  std::vector<Tensor> ins{x, w};
  if (cc.bias) ins.push_back(b);
  test::OpRun r = test::run_op("Conv", ins, cc.attrs, 1, {false, weights_as_params, weights_as_params});
  test::expect_close(r.outputs[0], dims, want);
  EXPECT_EQ(to_string(r.inferred[0]), to_string(TensorType::concrete(DType::F32, dims)));
}

std::vector<ConvCase> conv_cases() {
  using V = std::vector<int64_t>;
  return {
      {"3x3 pad 1 with bias", {2, 3, 8, 8}, {4, 3, 3, 3}, true, {.pt = 1, .pl = 1, .pb = 1, .pr = 1}, {{"pads", V{1, 1, 1, 1}}}},
      {"groups 2, stride 2, asymmetric pads",
       {2, 4, 9, 8},
       {6, 2, 3, 3},
       true,
       {.sh = 2, .sw = 2, .pt = 0, .pl = 1, .pb = 1, .pr = 2, .group = 2},
       {{"group", int64_t{2}}, {"strides", V{2, 2}}, {"pads", V{0, 1, 1, 2}}}},
      {"depthwise, dilation 2",
       {1, 5, 9, 9},
       {5, 1, 3, 3},
       true,
       {.dh = 2, .dw = 2, .pt = 2, .pl = 2, .pb = 2, .pr = 2, .group = 5},
       {{"group", int64_t{5}}, {"dilations", V{2, 2}}, {"pads", V{2, 2, 2, 2}}}},
      {"1x1 without bias", {2, 8, 5, 5}, {16, 8, 1, 1}, false, {}, {}},
      {"stride 2, dilation 2, asymmetric pads, rectangular kernel",
       {1, 3, 11, 10},
       {4, 3, 3, 2},
       false,
       {.sh = 2, .sw = 1, .dh = 2, .dw = 2, .pt = 1, .pl = 0, .pb = 2, .pr = 1},
       {{"strides", V{2, 1}}, {"dilations", V{2, 2}}, {"pads", V{1, 0, 2, 1}}}},
      // in 6, k 3, s 2: out 3, total padding 1 -> the odd element at the end (UPPER) or start (LOWER).
      {"auto_pad SAME_UPPER",
       {1, 2, 6, 6},
       {3, 2, 3, 3},
       true,
       {.sh = 2, .sw = 2, .pt = 0, .pl = 0, .pb = 1, .pr = 1},
       {{"auto_pad", std::string("SAME_UPPER")}, {"strides", V{2, 2}}}},
      {"auto_pad SAME_LOWER",
       {1, 2, 6, 6},
       {3, 2, 3, 3},
       true,
       {.sh = 2, .sw = 2, .pt = 1, .pl = 1, .pb = 0, .pr = 0},
       {{"auto_pad", std::string("SAME_LOWER")}, {"strides", V{2, 2}}}},
      {"auto_pad VALID", {1, 2, 7, 6}, {3, 2, 3, 3}, false, {.sh = 2, .sw = 2},
       {{"auto_pad", std::string("VALID")}, {"strides", V{2, 2}}}},
      {"1-D, stride 2, dilation 2, asymmetric pads",
       {2, 3, 10},
       {4, 3, 3},
       true,
       {.sw = 2, .dw = 2, .pl = 1, .pr = 2},
       {{"strides", V{2}}, {"dilations", V{2}}, {"pads", V{1, 2}}}},
      {"16 -> 32 channels (blocked layouts), explicit kernel_shape",
       {2, 16, 14, 14},
       {32, 16, 3, 3},
       true,
       {.pt = 1, .pl = 1, .pb = 1, .pr = 1},
       {{"kernel_shape", V{3, 3}}, {"pads", V{1, 1, 1, 1}}}},
      {"grouped 16 -> 32 channels, 4 groups, stride 2",
       {1, 16, 10, 10},
       {32, 4, 3, 3},
       false,
       {.sh = 2, .sw = 2, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .group = 4},
       {{"group", int64_t{4}}, {"strides", V{2, 2}}, {"pads", V{1, 1, 1, 1}}}},
  };
}

}  // namespace

TEST(DnnlConv, MatchesReferenceWithWeightsAsInputs) {
  for (const ConvCase& c : conv_cases()) run_case(c, false);
}

TEST(DnnlConv, MatchesReferenceWithWeightsAsParameters) {
  for (const ConvCase& c : conv_cases()) run_case(c, true);
}

TEST(DnnlConv, ShapeFunctionKeepsSymbolicBatch) {
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::known(3), Dim::known(9), Dim::known(9)}));
  g.inputs = {x};
  Value* w = g.add_param("w", Tensor(DType::F32, {4, 3, 3, 3}));
  Value* y = g.add_value("y", {});
  g.add_node("Conv", {x, w}, {y}, {{"strides", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}},
             "c1");
  g.outputs = {y};
  infer_graph_types(g);
  EXPECT_EQ(to_string(y->type), "f32[N,4,5,5]");
  // FLOPs: 2 * (N=2 * 4 * 5 * 5 outputs) * 27 taps.
  OpCost cost = op_cost(*g.nodes()[0], {TensorType::concrete(DType::F32, {2, 3, 9, 9}), w->type}, {nullptr, nullptr},
                        {TensorType::concrete(DType::F32, {2, 4, 5, 5})});
  EXPECT_DOUBLE_EQ(cost.flops, 2.0 * 200 * 27);
}

TEST(DnnlConv, RejectsBadShapesNamingTheNode) {
  std::mt19937 rng(7);
  Tensor x = test::random_tensor({1, 3, 5, 5}, rng);
  auto expect_error = [&](const Tensor& w, std::map<std::string, Attribute> attrs, const std::string& what) {
    try {
      test::run_op("Conv", {x, w}, attrs);
      ADD_FAILURE() << "expected an error about " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("test_Conv"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error(test::random_tensor({4, 2, 3, 3}, rng), {}, "channels");
  expect_error(test::random_tensor({4, 3, 3, 3}, rng), {{"kernel_shape", std::vector<int64_t>{2, 2}}}, "kernel_shape");
  expect_error(test::random_tensor({4, 3, 7, 7}, rng), {}, "does not fit");
  expect_error(test::random_tensor({4, 3, 3, 3}, rng), {{"auto_pad", std::string("SAME")}}, "auto_pad");
  expect_error(test::random_tensor({4, 3, 3, 3}, rng), {{"strides", std::vector<int64_t>{1}}}, "strides");
}

// A 3-D convolution over a depth-1 input with a depth-1 kernel is the 2-D convolution of its slice.
TEST(DnnlConv, ThreeDimensionalWithUnitDepthMatches2d) {
  std::mt19937 rng(77);
  Tensor x = test::random_tensor({2, 4, 1, 6, 7}, rng), w = test::random_tensor({6, 2, 1, 3, 3}, rng);
  Tensor b = test::random_tensor({6}, rng);
  using V = std::vector<int64_t>;
  std::map<std::string, Attribute> attrs{{"group", int64_t{2}}, {"strides", V{1, 2, 1}}, {"pads", V{0, 1, 0, 0, 1, 1}}};
  test::OpRun r = test::run_op("Conv", {x, w, b}, attrs, 1, {false, true, true});
  V dims;
  std::vector<double> want = conv_ref(x.reshaped({2, 4, 6, 7}), w.reshaped({6, 2, 3, 3}), &b,
                                      {.sh = 2, .pt = 1, .pl = 0, .pb = 1, .pr = 1, .group = 2}, dims);
  dims.insert(dims.begin() + 2, 1);
  test::expect_close(r.outputs[0], dims, want);
}

// A kernel that reordered a parameter weight at build time sees a replaced parameter.
TEST(DnnlConv, ReplacedParameterWeightIsReorderedAgain) {
  std::mt19937 rng(21);
  Graph g;
  Value* x = g.add_value("x", TensorType::concrete(DType::F32, {1, 16, 6, 6}));
  g.inputs = {x};
  Value* w = g.add_param("w", test::random_tensor({32, 16, 3, 3}, rng));
  Value* y = g.add_value("y", {});
  g.add_node("Conv", {x, w}, {y}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  g.outputs = {y};
  infer_graph_types(g);
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  Tensor xv = test::random_tensor({1, 16, 6, 6}, rng);
  std::vector<int64_t> dims;
  const Conv2d geo{.pt = 1, .pl = 1, .pb = 1, .pr = 1};
  test::expect_close(ex.run({{"x", xv}}).at("y"), {1, 32, 6, 6}, conv_ref(xv, g.param(w), nullptr, geo, dims));
  g.set_param(w, test::random_tensor({32, 16, 3, 3}, rng));
  test::expect_close(ex.run({{"x", xv}}).at("y"), {1, 32, 6, 6}, conv_ref(xv, g.param(w), nullptr, geo, dims));
}
