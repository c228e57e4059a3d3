// Transpose folding (passes/transpose_folding.h) and the fc.TransposedMatMul kernel: which
// Transposes a product absorbs on small text graphs, which it must leave, and that the folded graph
// computes what the unfolded one does.
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"
#include "ir/text_format.h"
#include "ir/verifier.h"
#include "passes/transpose_folding.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

std::map<std::string, Tensor> run(const Graph& g, const std::map<std::string, Tensor>& feeds) {
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor exec(g, cpu);
  return exec.run(feeds);
}

int count(const Graph& g, const std::string& op) {
  int c = 0;
  for (const auto& n : g.nodes()) c += n->op == op;
  return c;
}

const Node* producer_of(const Graph& g, const std::string& value) { return g.value(value)->producer; }

// Runs `text` unfolded and folded on random inputs; every output must agree to float rounding of
// sums (the product may add in another order when it reads an operand through strides).
void expect_same_results(const char* text, Graph& folded, const std::map<std::string, std::vector<int64_t>>& inputs) {
  std::map<std::string, Tensor> feeds;
  uint64_t seed = 7;
  for (const auto& [name, dims] : inputs) feeds[name] = test::random_tensor(dims, seed++, -1.0f, 1.0f);
  const auto want = run(parse_graph(text), feeds);
  const auto got = run(folded, feeds);
  ASSERT_EQ(want.size(), got.size());
  for (const auto& [name, w] : want) {
    const Tensor& r = got.at(name);
    ASSERT_EQ(r.dims(), w.dims()) << name;
    for (size_t i = 0; i < w.numel(); ++i)
      EXPECT_NEAR(r.data<float>()[i], w.data<float>()[i], 1e-5f * (1 + std::fabs(w.data<float>()[i]))) << name << "[" << i << "]";
  }
}

}  // namespace

TEST(TransposeFolding, ALinearLayerAndItsGradientsNeedNoTranspose) {
  // What PyTorch exports for a linear layer on [N, T, K] and what the MatMul gradient rule makes of
  // it: y = x W^T, dx = dy (W^T)^T, dW = (x_rows^T dy_rows)^T.
  const char* text = R"(graph main(%x: f32[2,3,4], %w: f32[5,4], %dy: f32[2,3,5]) -> (%y: f32[2,3,5], %dx: f32[2,3,4], %dw: f32[5,4]) opset 17 {
    %wt: f32[4,5] = Transpose(%w) {perm = [1, 0]}
    %y: f32[2,3,5] = MatMul(%x, %wt)
    %wtt: f32[5,4] = Transpose(%wt) {perm = [1, 0]}
    %dx: f32[2,3,4] = MatMul(%dy, %wtt)
    %xr: f32[6,4] = Reshape(%x) {shape = [-1, 4]}
    %dyr: f32[6,5] = Reshape(%dy) {shape = [-1, 5]}
    %xrt: f32[4,6] = Transpose(%xr) {perm = [1, 0]}
    %dwt: f32[4,5] = MatMul(%xrt, %dyr)
    %dw: f32[5,4] = Transpose(%dwt) {perm = [1, 0]}
  })";
  Graph g = parse_graph(text);
  const passes::TransposeFolding f = passes::fold_transposes(g);
  verify(g);
  EXPECT_EQ(count(g, "Transpose"), 0);
  EXPECT_EQ(count(g, "MatMul"), 0);
  EXPECT_EQ(count(g, "TransposedMatMul"), 3);
  EXPECT_EQ(f.outputs, 1);
  // y = x * w read transposed; dx = dy * w (the two transposes cancel); dw = dy_rows^T x_rows.
  const Node* y = producer_of(g, "y");
  EXPECT_EQ(y->inputs, (std::vector<Value*>{g.value("x"), g.value("w")}));
  EXPECT_EQ(y->attr_int("trans_a"), 0);
  EXPECT_EQ(y->attr_int("trans_b"), 1);
  const Node* dx = producer_of(g, "dx");
  EXPECT_EQ(dx->inputs, (std::vector<Value*>{g.value("dy"), g.value("w")}));
  EXPECT_EQ(dx->attr_int("trans_a") + dx->attr_int("trans_b"), 0);
  const Node* dw = producer_of(g, "dw");
  EXPECT_EQ(dw->inputs, (std::vector<Value*>{g.value("dyr"), g.value("xr")}));
  EXPECT_EQ(dw->attr_int("trans_a"), 1);
  EXPECT_EQ(dw->attr_int("trans_b"), 0);
  expect_same_results(text, g, {{"x", {2, 3, 4}}, {"w", {5, 4}}, {"dy", {2, 3, 5}}});
}

TEST(TransposeFolding, BatchedProductsFoldTheirLastTwoAxes) {
  // q kt with kt a Transpose of k's last two axes, batch axes broadcast ([2,1,..] against [2,3,..]),
  // and the transposed result of a batched product.
  const char* text = R"(graph main(%q: f32[2,3,4,5], %k: f32[2,1,6,5], %a: f32[3,7,4], %b: f32[3,7,2]) -> (%s: f32[2,3,4,6], %c: f32[3,2,4]) opset 17 {
    %kt: f32[2,1,5,6] = Transpose(%k) {perm = [0, 1, 3, 2]}
    %s: f32[2,3,4,6] = MatMul(%q, %kt)
    %at: f32[3,4,7] = Transpose(%a) {perm = [0, 2, 1]}
    %ab: f32[3,4,2] = MatMul(%at, %b)
    %c: f32[3,2,4] = Transpose(%ab) {perm = [0, 2, 1]}
  })";
  Graph g = parse_graph(text);
  const passes::TransposeFolding f = passes::fold_transposes(g);
  verify(g);
  EXPECT_EQ(f.operands, 2);
  EXPECT_EQ(f.outputs, 1);
  EXPECT_EQ(count(g, "Transpose"), 0);
  expect_same_results(text, g, {{"q", {2, 3, 4, 5}}, {"k", {2, 1, 6, 5}}, {"a", {3, 7, 4}}, {"b", {3, 7, 2}}});
}

TEST(TransposeFolding, LeavesWhatAProductCannotReadThroughStrides) {
  // A head split (axes 1 and 2 swapped) is not a transpose of the last two axes; a vector operand
  // makes MatMul a matrix-vector product; a Transpose also read elsewhere stays (the product still
  // reads its input); a product read by a Transpose and by another node keeps its own result.
  const char* text = R"(graph main(%x: f32[2,3,4,5], %w: f32[2,4,5,6], %m: f32[3,4], %v: f32[3], %p: f32[4,3], %r: f32[3,4], %e: f32[4,4]) -> (%y: f32[2,4,3,6], %u: f32[4], %pt: f32[3,4], %z: f32[3,3], %n: f32[4,4], %nt: f32[4,4]) opset 17 {
    %xs: f32[2,4,3,5] = Transpose(%x) {perm = [0, 2, 1, 3]}
    %y: f32[2,4,3,6] = MatMul(%xs, %w)
    %mt: f32[4,3] = Transpose(%m) {perm = [1, 0]}
    %u: f32[4] = MatMul(%mt, %v)
    %pt: f32[3,4] = Transpose(%p) {perm = [1, 0]}
    %z: f32[3,3] = MatMul(%pt, %p)
    %n: f32[4,4] = MatMul(%e, %e)
    %nt: f32[4,4] = Transpose(%n) {perm = [1, 0]}
  })";
  Graph g = parse_graph(text);
  const passes::TransposeFolding f = passes::fold_transposes(g);
  verify(g);
  EXPECT_EQ(f.operands, 1);  // z reads p transposed
  EXPECT_EQ(f.outputs, 0);
  EXPECT_EQ(count(g, "Transpose"), 4);  // xs, mt, pt (a graph output), nt (n is one)
  EXPECT_EQ(producer_of(g, "y")->op, "MatMul");
  EXPECT_EQ(producer_of(g, "u")->op, "MatMul");
  EXPECT_EQ(producer_of(g, "n")->op, "MatMul");
  expect_same_results(text, g,
                      {{"x", {2, 3, 4, 5}}, {"w", {2, 4, 5, 6}}, {"m", {3, 4}}, {"v", {3}}, {"p", {4, 3}},
                       {"r", {3, 4}}, {"e", {4, 4}}});
}
