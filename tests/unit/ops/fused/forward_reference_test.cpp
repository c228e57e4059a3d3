// fc.Fused as the compiler makes it: a chain of elementwise ops fused by passes/elementwise_fusion.h,
// its node (encoded program, ops, inputs) then run alone and compared with a float64 formula of the
// original chain written here:
//   r = relu(x + b)                 (b broadcast over rows; a graph output, so the node's output 0)
//   o = sqrt(|r * y|) - y         (output 1; r * y and its root are never materialised)
// Tolerance (u = 2^-24): r is one rounding of the exact sum (u |r|). For o, r * y carries 2u of
// relative error (the add, the product), the square root halves it and rounds once (2u |sqrt|), and
// the subtraction rounds once: 4u (|sqrt| + |y|).
#include <gtest/gtest.h>

#include <cmath>

#include "ir/text_format.h"
#include "ir/verifier.h"
#include "op_test_util.h"
#include "ops_math_test_util.h"
#include "passes/elementwise_fusion.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

constexpr double kU = 0x1p-24;

TEST(FusedForward, FusedChainMatchesTheFloat64Formula) {
  ir::Graph g = ir::parse_graph(R"(graph main(%x: f32[N,8], %b: f32[8], %y: f32[N,8]) -> (%r: f32[N,8], %o: f32[N,8]) opset 17 {
    %s: f32[N,8] = Add(%x, %b)
    %r: f32[N,8] = Relu(%s)
    %m: f32[N,8] = Mul(%r, %y)
    %a: f32[N,8] = Abs(%m)
    %q: f32[N,8] = Sqrt(%a)
    %o: f32[N,8] = Sub(%q, %y)
  })");
  ASSERT_EQ(passes::fuse_elementwise(g).nodes_fused, 6);
  ir::verify(g);
  ASSERT_EQ(g.nodes().size(), 1u);
  const ir::Node& f = *g.nodes()[0];
  ASSERT_EQ(f.op, "Fused");
  ASSERT_EQ(f.domain, "fc");
  ASSERT_EQ(f.outputs.size(), 2u);

  const int64_t n = 37;
  const std::map<std::string, Tensor> feeds = {
      {"x", random_f32({n, 8}, 1)}, {"b", random_f32({8}, 2)}, {"y", random_f32({n, 8}, 3)}};
  std::vector<Tensor> in;
  for (const ir::Value* v : f.inputs) in.push_back(feeds.at(v->name));
  const test::OpRun run = test::run_op("fc.Fused", in, f.attrs, 2);
  // The node's outputs, in order, are the fused chain's r and o.
  ASSERT_EQ(f.outputs[0]->name, "r");
  ASSERT_EQ(f.outputs[1]->name, "o");

  const float* X = feeds.at("x").data<float>();
  const float* B = feeds.at("b").data<float>();
  const float* Y = feeds.at("y").data<float>();
  int64_t bad = 0;
  for (int64_t i = 0; i < n * 8; ++i) {
    const double r = std::max(double(X[i]) + B[i % 8], 0.0);
    const double q = std::sqrt(std::abs(r * Y[i])), o = q - Y[i];
    const double got_r = run.outputs[0].data<float>()[i], got_o = run.outputs[1].data<float>()[i];
    if (std::abs(got_r - r) > kU * std::abs(r) || std::abs(got_o - o) > 4 * kU * (q + std::abs(Y[i]))) {
      if (++bad <= 5) ADD_FAILURE() << "element " << i << ": r " << got_r << " want " << r << ", o " << got_o << " want " << o;
    }
  }
  EXPECT_EQ(bad, 0);
}

TEST(FusedForward, BroadcastInputsOfEveryShape) {
  // A scalar, a column and a row against a matrix: the fused kernel walks the broadcast shape.
  ir::Graph g = ir::parse_graph(R"(graph main(%a: f32[], %c: f32[6,1], %w: f32[5], %x: f32[6,5]) -> (%o: f32[6,5]) opset 17 {
    %p: f32[6,5] = Mul(%x, %a)
    %q: f32[6,5] = Add(%p, %c)
    %o: f32[6,5] = Div(%q, %w)
  })");
  ASSERT_EQ(passes::fuse_elementwise(g).groups, 1);
  const ir::Node& f = *g.nodes()[0];
  ASSERT_EQ(f.op, "Fused");
  const std::map<std::string, Tensor> feeds = {{"a", Tensor::scalar<float>(1.5f)},
                                               {"c", random_f32({6, 1}, 4)},
                                               {"w", random_f32({5}, 5, 0.5f, 2)},
                                               {"x", random_f32({6, 5}, 6)}};
  std::vector<Tensor> in;
  for (const ir::Value* v : f.inputs) in.push_back(feeds.at(v->name));
  const test::OpRun run = test::run_op("fc.Fused", in, f.attrs, 1);
  std::vector<double> want;
  std::vector<double> tol;
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 5; ++j) {
      const double p = 1.5 * feeds.at("x").data<float>()[i * 5 + j], c = feeds.at("c").data<float>()[i];
      const double w = feeds.at("w").data<float>()[j];
      want.push_back((p + c) / w);
      tol.push_back(3 * kU * (std::abs(p) + std::abs(c)) / std::abs(w));  // three roundings
    }
  ASSERT_EQ(run.outputs[0].dims(), (std::vector<int64_t>{6, 5}));
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(std::abs(run.outputs[0].data<float>()[i] - want[i]), tol[i]) << "element " << i;
}

}  // namespace
