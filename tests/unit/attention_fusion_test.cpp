// Attention fusion (passes/attention_fusion.h) and the fc.Attention / fc.AttentionGrad kernels: the
// subgraph as PyTorch exports it (MatMul, Mul or Div by a constant, Where or Add mask, Softmax,
// MatMul) is fused into one node, and the fused graph's output and gradients (of a random linear
// function of the output) agree with the unfused graph's, run by the unfused ops' own kernels: causal
// masks (whole tiles skipped) in both Where forms, an additive f32 mask broadcast over heads, no mask,
// sequences that are not a multiple of the kernel's tile, the scale and fill as frozen parameters;
// two threads give the same bits as one. The pass leaves chains alone where fusing would be wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "gradcheck.h"
#include "ir/op_registry.h"
#include "passes/attention_fusion.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

enum class Mask { none, where_excludes, where_keeps, additive };

struct Options {
  int64_t n = 2, h = 3, t = 100, s = 100, d = 16, e = 8;
  Mask mask = Mask::where_excludes;
  bool divide = false;          // scale as Div by a constant instead of Mul
  bool param_scale = false;     // the scale a parameter: must not fuse unless frozen
  bool param_fill = false;      // Where's fill a parameter (PyTorch 2.x's optimized export)
  float fill = -INFINITY;       // Where's fill value: only -inf may fuse
  bool softmax_output = false;  // the probabilities also a graph output: must not fuse
};

Value* constant(Graph& g, const std::string& name, Tensor t) {
  Value* v = g.add_value(name, {});
  g.add_node("Constant", {}, {v}, {{"value", std::move(t)}}, name);
  return v;
}

Value* node(Graph& g, const std::string& op, std::vector<Value*> in, std::map<std::string, Attribute> attrs = {}) {
  Value* v = g.add_value(g.unique_name(op), {});
  g.add_node(op, std::move(in), {v}, std::move(attrs), g.unique_node_name(op));
  return v;
}

// y = softmax(scale * q kt + mask) v and loss = sum(y * R), the attention subgraph as exported.
struct AttentionGraph {
  Graph g;
  Value *q, *kt, *v, *y, *loss, *p;
  explicit AttentionGraph(const Options& o) {
    q = g.add_param("q", test::random_tensor({o.n, o.h, o.t, o.d}, 1, -2, 2));
    kt = g.add_param("kt", test::random_tensor({o.n, o.h, o.d, o.s}, 2, -2, 2));
    v = g.add_param("v", test::random_tensor({o.n, o.h, o.s, o.e}, 3));
    Value* s = node(g, "MatMul", {q, kt});
    Value* c = o.param_scale ? g.add_param("scale", Tensor::scalar<float>(0.25f))
                             : constant(g, "scale", Tensor::scalar<float>(o.divide ? 4.0f : 0.25f));
    s = node(g, o.divide ? "Div" : "Mul", {s, c});
    if (o.mask == Mask::where_excludes || o.mask == Mask::where_keeps) {
      Tensor m(DType::Bool, {1, 1, o.t, o.s});  // causal: key c visible from query r when c <= r
      for (int64_t r = 0; r < o.t; ++r)
        for (int64_t k = 0; k < o.s; ++k) m.data<bool>()[r * o.s + k] = (k > r) == (o.mask == Mask::where_excludes);
      Value* mv = constant(g, "mask", m);
      Value* fill = o.param_fill ? g.add_param("fill", Tensor::scalar<float>(o.fill))
                                 : constant(g, "fill", Tensor::scalar<float>(o.fill));
      s = o.mask == Mask::where_excludes ? node(g, "Where", {mv, fill, s}) : node(g, "Where", {mv, s, fill});
    } else if (o.mask == Mask::additive) {
      // [n, 1, t, s]: a random bias, and sample 1's last 30 keys padding (-inf) for every query.
      Tensor m = test::random_tensor({o.n, 1, o.t, o.s}, 4);
      for (int64_t r = 0; r < o.t; ++r)
        for (int64_t k = o.s - 30; k < o.s; ++k) m.data<float>()[(o.t + r) * o.s + k] = -INFINITY;
      s = node(g, "Add", {s, constant(g, "bias", m)});
    }
    p = node(g, "Softmax", {s}, {{"axis", int64_t{-1}}});
    y = node(g, "MatMul", {p, v});
    Value* weighted = node(g, "Mul", {y, constant(g, "R", test::random_tensor({o.n, o.h, o.t, o.e}, 5))});
    loss = node(g, "ReduceSum", {weighted}, {{"keepdims", int64_t{0}}});
    g.outputs = {y, loss};
    if (o.softmax_output) g.outputs.push_back(p);
    infer_graph_types(g);
  }
};

int count_ops(const Graph& g, const std::string& op) {
  int n = 0;
  for (const auto& nd : g.nodes()) n += nd->op == op;
  return n;
}

// y, dq, dkt, dv of the graph (fused first when `fuse`), run with `threads`.
std::vector<Tensor> run(const Options& o, bool fuse, int threads, const std::set<std::string>& frozen = {}) {
  AttentionGraph a(o);
  if (fuse) {
    EXPECT_EQ(passes::fuse_attention(a.g, frozen), 1);
  }
  passes::Gradients grads = passes::build_gradients(a.g, a.loss, {a.q, a.kt, a.v});
  std::vector<Value*> outs = {a.y, grads.of.at(a.q), grads.of.at(a.kt), grads.of.at(a.v)};
  a.g.outputs = outs;
  a.g.remove_dead_nodes();
  EXPECT_EQ(count_ops(a.g, "Attention"), fuse ? 1 : 0);
  EXPECT_EQ(count_ops(a.g, "Softmax"), fuse ? 0 : 1);
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor ex(a.g, cpu);
  auto res = ex.run({});
  std::vector<Tensor> r;
  for (Value* v : outs) r.push_back(res.at(v->name));
  return r;
}

void expect_close(const Options& o, const std::set<std::string>& frozen = {}) {
  const std::vector<Tensor> ref = run(o, false, 1);
  const std::vector<Tensor> got = run(o, true, 1, frozen);
  const char* names[] = {"y", "dq", "dkt", "dv"};
  for (size_t k = 0; k < ref.size(); ++k) {
    ASSERT_EQ(ref[k].dims(), got[k].dims()) << names[k];
    double scale = 0, worst = 0;
    for (size_t i = 0; i < ref[k].numel(); ++i) scale = std::max(scale, double(std::fabs(ref[k].data<float>()[i])));
    for (size_t i = 0; i < ref[k].numel(); ++i)
      worst = std::max(worst, double(std::fabs(ref[k].data<float>()[i] - got[k].data<float>()[i])));
    // Float sums in another order: a few units of float rounding of the largest element.
    EXPECT_LE(worst, 1e-5 * scale) << names[k] << ": max |fused - unfused| " << worst << " of max " << scale;
  }
  const std::vector<Tensor> two = run(o, true, 2, frozen);
  for (size_t k = 0; k < got.size(); ++k)
    EXPECT_EQ(0, std::memcmp(got[k].raw(), two[k].raw(), got[k].nbytes())) << names[k] << ": 2 threads differ";
}

TEST(AttentionFusion, CausalWhereExcludesMatchesUnfused) { expect_close({}); }

TEST(AttentionFusion, CausalWhereKeepsWithDivMatchesUnfused) {
  expect_close({.t = 70, .s = 70, .mask = Mask::where_keeps, .divide = true});
}

TEST(AttentionFusion, AdditiveMaskOverHeadsMatchesUnfused) {
  expect_close({.t = 65, .s = 90, .d = 8, .e = 16, .mask = Mask::additive});
}

TEST(AttentionFusion, NoMaskMatchesUnfused) { expect_close({.n = 1, .h = 2, .t = 33, .s = 130, .mask = Mask::none}); }

// PyTorch 2.x's optimized dynamo export: the scale and the -inf fill as scalar initializers, which
// fuse once frozen ([model] frozen: constants for the whole run), and only then.
TEST(AttentionFusion, FrozenScaleAndFillParametersCountAsConstants) {
  const Options o{.param_scale = true, .param_fill = true};
  expect_close(o, {"scale", "fill"});
  for (const std::set<std::string>& frozen : {std::set<std::string>{}, {"scale"}, {"fill"}}) {
    AttentionGraph a(o);
    EXPECT_EQ(passes::fuse_attention(a.g, frozen), 0) << frozen.size();
  }
}

TEST(AttentionFusion, LeavesWhatItMustNotFuse) {
  for (const Options& o : {Options{.param_scale = true}, Options{.fill = -1e9f}, Options{.softmax_output = true},
                           Options{.param_fill = true}}) {
    AttentionGraph a(o);
    EXPECT_EQ(passes::fuse_attention(a.g), 0);
    EXPECT_EQ(count_ops(a.g, "Softmax"), 1);
  }
}

}  // namespace
