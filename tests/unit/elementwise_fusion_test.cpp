// Elementwise fusion (passes/elementwise_fusion.h) and the fc.Fused CPU kernel: which nodes a
// group takes on small text graphs, and that every op's scalar form gives, after fusion and LLVM
// compilation, bit for bit what the op's own kernel gives.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "gradcheck.h"
#include "ir/op_registry.h"
#include "ir/text_format.h"
#include "ir/verifier.h"
#include "passes/elementwise_fusion.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

std::vector<const Node*> fused_nodes(const Graph& g) {
  std::vector<const Node*> r;
  for (const auto& n : g.nodes())
    if (n->domain == "fc" && n->op == "Fused") r.push_back(n.get());
  return r;
}

// Runs g on the CPU and returns every output's bytes.
std::map<std::string, std::vector<char>> run_bytes(const Graph& g, const std::map<std::string, Tensor>& feeds,
                                                   int threads = 1) {
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor exec(g, cpu);
  std::map<std::string, std::vector<char>> r;
  for (const auto& [name, t] : exec.run(feeds)) {
    const char* p = static_cast<const char*>(t.raw());
    r[name].assign(p, p + t.nbytes());
  }
  return r;
}

}  // namespace

TEST(ElementwiseFusion, FusesAChainAndKeepsOnlyValuesReadOutside) {
  // s = x + b (broadcast bias), r = relu(s) (a graph output), m = r * y: one group of three, whose
  // outputs are r and m; s is never materialised. The Softmax stays outside.
  Graph g = parse_graph(R"(graph main(%x: f32[N,8], %b: f32[8], %y: f32[N,8]) -> (%r: f32[N,8], %o: f32[N,8]) opset 17 {
    %s: f32[N,8] = Add(%x, %b)
    %r: f32[N,8] = Relu(%s)
    %m: f32[N,8] = Mul(%r, %y)
    %o: f32[N,8] = Softmax(%m) {axis = 1}
  })");
  const passes::FusionStats stats = passes::fuse_elementwise(g);
  verify(g);
  EXPECT_EQ(stats.groups, 1);
  EXPECT_EQ(stats.nodes_fused, 3);
  ASSERT_EQ(g.nodes().size(), 2u);
  const Node& f = *g.nodes()[0];
  ASSERT_EQ(f.op, "Fused");
  EXPECT_EQ(f.inputs, (std::vector<Value*>{g.value("x"), g.value("b"), g.value("y")}));
  EXPECT_EQ(f.outputs, (std::vector<Value*>{g.value("r"), g.value("m")}));
  EXPECT_EQ(f.attr_string("program"),
            "%0 = load 0; %1 = load 1; %2 = add %0 %1; %3 = relu %2; %4 = load 2; %5 = mul %3 %4; out 0 %3; out 1 %5");
  EXPECT_EQ(std::get<std::vector<std::string>>(f.attrs.at("ops")), (std::vector<std::string>{"Add", "Relu", "Mul"}));
  EXPECT_EQ(g.find_value("s"), nullptr);
  // The text IR round-trips with the fused node in it.
  const std::string text = print_graph(g);
  EXPECT_EQ(print_graph(parse_graph(text)), text);
}

TEST(ElementwiseFusion, AnInputMadeAfterTheGroupStartsKeepsANodeOut) {
  // d reads c, which a Softmax makes after the group {a} starts: d cannot run where a runs, so it
  // is not fused with a. Made before a, it is.
  const char* late = R"(graph main(%x: f32[4,8]) -> (%d: f32[4,8]) opset 17 {
    %a: f32[4,8] = Relu(%x)
    %c: f32[4,8] = Softmax(%x) {axis = 1}
    %d: f32[4,8] = Add(%a, %c)
  })";
  Graph g = parse_graph(late);
  EXPECT_EQ(passes::fuse_elementwise(g).groups, 0);
  EXPECT_TRUE(fused_nodes(g).empty());

  Graph early = parse_graph(R"(graph main(%x: f32[4,8]) -> (%d: f32[4,8]) opset 17 {
    %c: f32[4,8] = Softmax(%x) {axis = 1}
    %a: f32[4,8] = Relu(%x)
    %d: f32[4,8] = Add(%a, %c)
  })");
  EXPECT_EQ(passes::fuse_elementwise(early).groups, 1);
  verify(early);
  const Tensor x = test::random_tensor({4, 8}, 7);
  EXPECT_EQ(run_bytes(parse_graph(late), {{"x", x}}), run_bytes(early, {{"x", x}}));
}

TEST(ElementwiseFusion, DifferentShapesAndNonFloatValuesStayApart) {
  Graph g = parse_graph(R"(graph main(%x: f32[4,8], %v: f32[8], %i: i64[4,8]) -> (%y: f32[4,8], %w: f32[8], %j: i64[4,8]) opset 17 {
    %w: f32[8] = Neg(%v)
    %y: f32[4,8] = Add(%x, %w)
    %k: i64[4,8] = Neg(%i)
    %j: i64[4,8] = Abs(%k)
  })");
  // Neg(v) has shape [8], the Add [4,8]: different groups of one; the i64 chain is never fused.
  EXPECT_EQ(passes::fuse_elementwise(g).groups, 0);
}

// Every op with a scalar form, fused with a Neg after it, against the same graph unfused: equal
// bit for bit, on values that hit every branch (negative, zero, positive, with ties).
TEST(ElementwiseFusion, EveryScalarFormMatchesItsKernelBitForBit) {
  int tested = 0;
  for (const OpSchema* s : OpRegistry::global().all()) {
    // Ops with table inputs (the optimizer updates) are fused across tensors, not into chains, and
    // their kernel is their scalar form: tests/unit/update_fusion_test.cpp.
    if (!s->scalar || !s->table_inputs.empty()) continue;
    const int arity = std::max(1, std::min(s->max_inputs, 3));
    Graph g;
    std::map<std::string, Tensor> feeds;
    std::vector<Value*> ins;
    for (int i = 0; i < arity; ++i) {
      // Input 1 of a binary op broadcasts ([5, 1]) unless the op needs equal shapes (the fc ops).
      const bool broadcast = i == 1 && s->domain.empty();
      const std::vector<int64_t> dims = broadcast ? std::vector<int64_t>{5, 1} : std::vector<int64_t>{3, 5, 7};
      std::vector<Dim> d;
      for (int64_t v : dims) d.push_back(Dim::known(v));
      Value* v = g.add_value("in" + std::to_string(i), TensorType(DType::F32, d));
      g.inputs.push_back(v);
      ins.push_back(v);
      Tensor t = test::random_tensor(dims, 31 + i, -2.0f, 2.0f);
      float* p = t.data<float>();
      for (size_t k = 0; k < t.numel(); k += 4) p[k] = std::round(p[k]);  // zeros and ties
      feeds["in" + std::to_string(i)] = t;
    }
    Value* y = g.add_value("y", {});
    Value* out = g.add_value("out", {});
    Node* n = g.add_node(s->name, ins, {y}, {}, "op");
    n->domain = s->domain;
    g.add_node("Neg", {y}, {out}, {}, "neg");
    g.outputs = {y, out};
    infer_graph_types(g);
    const auto want = run_bytes(g, feeds);
    ASSERT_EQ(passes::fuse_elementwise(g).groups, 1) << s->name;
    verify(g);
    EXPECT_EQ(run_bytes(g, feeds), want) << s->domain << "." << s->name << " fused differs from its kernel";
    ++tested;
  }
  EXPECT_GE(tested, 20);  // Add Sub Mul Div Max Min Sum Mean Relu LeakyRelu Neg Abs Sqrt ... and the grads
}

TEST(ElementwiseFusion, ThreadSplitGivesTheSameBits) {
  Graph g = parse_graph(R"(graph main(%x: f32[64,1000], %b: f32[1000]) -> (%y: f32[64,1000]) opset 17 {
    %s: f32[64,1000] = Add(%x, %b)
    %y: f32[64,1000] = Relu(%s)
  })");
  ASSERT_EQ(passes::fuse_elementwise(g).groups, 1);
  const std::map<std::string, Tensor> feeds{{"x", test::random_tensor({64, 1000}, 3)},
                                            {"b", test::random_tensor({1000}, 4)}};
  EXPECT_EQ(run_bytes(g, feeds, 1), run_bytes(g, feeds, 2));
}

TEST(ElementwiseFusion, FoldsAReluIntoTheBatchNormBeforeIt) {
  const char* text = R"(graph main(%x: f32[4,3,5,5], %s: f32[3], %b: f32[3], %rm: f32[3], %rv: f32[3]) -> (%r: f32[4,3,5,5], %m2: f32[3]) opset 17 {
    %y: f32[4,3,5,5], %m2: f32[3], %v2: f32[3], %sm: f32[3], %si: f32[3] = fc.BatchNormTraining(%x, %s, %b, %rm, %rv)
    %r: f32[4,3,5,5] = Relu(%y)
  })";
  std::map<std::string, Tensor> feeds{{"x", test::random_tensor({4, 3, 5, 5}, 1, -3.0f, 3.0f)}};
  for (const char* p : {"s", "b", "rm", "rv"}) feeds[p] = test::random_tensor({3}, feeds.size(), 0.5f, 1.5f);
  const auto want = run_bytes(parse_graph(text), feeds);
  Graph g = parse_graph(text);
  EXPECT_EQ(passes::fuse_elementwise(g).relus_folded, 1);
  verify(g);
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0]->attr_int("relu"), 1);
  EXPECT_EQ(g.nodes()[0]->outputs[0], g.value("r"));
  EXPECT_EQ(g.find_value("y"), nullptr);
  EXPECT_EQ(run_bytes(g, feeds), want);

  // y read by something else too (here a graph output): not folded.
  Graph kept = parse_graph(R"(graph main(%x: f32[4,3,5,5], %s: f32[3], %b: f32[3], %rm: f32[3], %rv: f32[3]) -> (%r: f32[4,3,5,5], %y: f32[4,3,5,5]) opset 17 {
    %y: f32[4,3,5,5], %m2: f32[3], %v2: f32[3], %sm: f32[3], %si: f32[3] = fc.BatchNormTraining(%x, %s, %b, %rm, %rv)
    %r: f32[4,3,5,5] = Relu(%y)
  })");
  EXPECT_EQ(passes::fuse_elementwise(kept).relus_folded, 0);
}

TEST(ElementwiseFusion, FoldsAReluIntoTheConvBeforeIt) {
  // Convolution + ReLU in one primitive must give the unfused pair's bytes: negative sums become
  // +0 as in relu.cpp, and a NaN (here from one NaN input pixel) stays NaN, as PyTorch's relu keeps it.
  const char* text = R"(graph main(%x: f32[2,3,9,9], %w: f32[16,3,3,3], %b: f32[16]) -> (%r: f32[2,16,5,5]) opset 17 {
    %y: f32[2,16,5,5] = Conv(%x, %w, %b) {pads = [1, 1, 1, 1], strides = [2, 2]}
    %r: f32[2,16,5,5] = Relu(%y)
  })";
  std::map<std::string, Tensor> feeds{{"x", test::random_tensor({2, 3, 9, 9}, 1, -1.0f, 1.0f)},
                                      {"w", test::random_tensor({16, 3, 3, 3}, 2, -1.0f, 1.0f)},
                                      {"b", test::random_tensor({16}, 3, -1.0f, 1.0f)}};
  feeds["x"].data<float>()[40] = std::nanf("");
  const auto want = run_bytes(parse_graph(text), feeds);
  const float* unfused = reinterpret_cast<const float*>(want.at("r").data());
  int64_t zeros = 0, nans = 0;
  for (int64_t i = 0; i < 2 * 16 * 5 * 5; ++i) zeros += unfused[i] == 0.0f, nans += std::isnan(unfused[i]);
  ASSERT_GT(zeros, 100);  // the test sees clamped values
  ASSERT_GT(nans, 0);     // and NaNs
  Graph g = parse_graph(text);
  EXPECT_EQ(passes::fuse_elementwise(g).relus_folded, 1);
  verify(g);
  ASSERT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.nodes()[0]->op, "ConvRelu");
  EXPECT_EQ(g.nodes()[0]->outputs[0], g.value("r"));
  EXPECT_EQ(g.find_value("y"), nullptr);
  EXPECT_EQ(run_bytes(g, feeds), want);
  EXPECT_EQ(run_bytes(g, feeds, 2), run_bytes(parse_graph(text), feeds, 2));

  // y also a graph output: not folded.
  Graph kept = parse_graph(R"(graph main(%x: f32[2,3,9,9], %w: f32[16,3,3,3]) -> (%r: f32[2,16,7,7], %y: f32[2,16,7,7]) opset 17 {
    %y: f32[2,16,7,7] = Conv(%x, %w)
    %r: f32[2,16,7,7] = Relu(%y)
  })");
  EXPECT_EQ(passes::fuse_elementwise(kept).relus_folded, 0);
}
