// Loss fusion (passes/loss_fusion.h) and the softmax cross-entropy kernels: the loss and its gradient
// as one fc.SoftmaxCrossEntropyAndGrad node give the same bits as the two nodes alone, both agree with
// the formulas computed here in double precision (mean, sum, ignore_index, label smoothing, a
// data-parallel scale_count, [N, T, V] logits of a language model), two threads give the same bits as one, and the pass leaves the pair alone where
// fusing would be wrong (the loss read in between, a seed computed from the loss, other attributes).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "gradcheck.h"
#include "support/error.h"
#include "ir/op_registry.h"
#include "ir/ops/softmax_cross_entropy.h"
#include "ir/verifier.h"
#include "passes/loss_fusion.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

struct LossGraph {
  Graph g;
  Value *loss = nullptr, *dlogits = nullptr, *dloss = nullptr;
  // n rows of c classes; t > 1: logits [n / t, t, c] and labels [n / t, t] (a language model's).
  LossGraph(int64_t n, int64_t c, std::map<std::string, Attribute> attrs, int64_t t = 1) {
    std::vector<Dim> rows = {Dim::known(n)};
    if (t > 1) rows = {Dim::known(n / t), Dim::known(t)};
    std::vector<Dim> logits = rows;
    logits.push_back(Dim::known(c));
    Value* x = g.add_value("x", TensorType(DType::F32, logits));
    Value* labels = g.add_value("labels", TensorType(DType::I64, rows));
    g.inputs = {x, labels};
    loss = g.add_value("loss", {});
    Node* loss_node = g.add_node("SoftmaxCrossEntropy", {x, labels}, {loss}, attrs, "loss");
    loss_node->domain = "fc";
    dloss = g.add_value("loss/grad_seed", {});
    g.add_node("Constant", {}, {dloss}, {{"value", Tensor::scalar<float>(1.0f)}}, "seed");
    dlogits = g.add_value("dlogits", {});
    Node* grad = g.add_node("SoftmaxCrossEntropyGrad", {x, labels, dloss}, {dlogits}, attrs, "loss_grad");
    grad->domain = "fc";
    grad->gradient_of = loss_node;  // as autodiff records it
    g.outputs = {loss, dlogits};
    infer_graph_types(g);
  }
};

int count_ops(const Graph& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.nodes()) n += node->op == op;
  return n;
}

struct Feeds {
  Tensor x, labels;
  Feeds(int64_t n, int64_t c, int64_t ignore, uint64_t seed, int64_t t = 1)
      : x(test::random_tensor(t > 1 ? std::vector<int64_t>{n / t, t, c} : std::vector<int64_t>{n, c}, seed, -6, 6)) {
    std::vector<int64_t> l(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      l[static_cast<size_t>(i)] = i % 7 == 2 && ignore != kNoIgnoreIndex ? ignore : (i * 5 + 3) % c;
    labels = Tensor::from_vector<int64_t>(t > 1 ? std::vector<int64_t>{n / t, t} : std::vector<int64_t>{n}, l);
  }
};

std::pair<Tensor, Tensor> run(const Graph& g, const Feeds& f, int threads) {
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor ex(g, cpu);
  auto out = ex.run({{"x", f.x}, {"labels", f.labels}});
  return {out.at("loss"), out.at("dlogits")};
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() && std::memcmp(a.data<float>(), b.data<float>(), a.numel() * sizeof(float)) == 0;
}

struct Case {
  std::string name;
  int64_t n, c;
  std::map<std::string, Attribute> attrs;
  int64_t t = 1;  // > 1: [n / t, t, c] logits
};

TEST(LossFusion, FusedPairGivesTheSameBitsAsTheTwoNodesAndMatchesDouble) {
  const std::vector<Case> cases = {
      {"mean", 16, 10, {}},
      {"sum", 9, 7, {{"reduction", std::string("sum")}}},
      {"mean, ignore_index", 21, 5, {{"ignore_index", int64_t{-100}}}},
      {"mean over a global batch of 64 (scale_count)", 16, 10, {{"scale_count", int64_t{64}}}},
      {"large: two threads split the rows", 256, 1000, {}},
      {"label smoothing", 16, 10, {{"label_smoothing", 0.1f}}},
      {"sum, label smoothing, ignore_index", 21, 5,
       {{"reduction", std::string("sum")}, {"label_smoothing", 0.25f}, {"ignore_index", int64_t{-100}}}},
      {"mean, label smoothing, ignore_index", 21, 5, {{"label_smoothing", 0.3f}, {"ignore_index", int64_t{-100}}}},
      {"tokens [4, 6, 11]", 24, 11, {}, 6},
      {"tokens [2, 32, 50], global batch of 8 (scale_count 256), label smoothing", 64, 50,
       {{"scale_count", int64_t{256}}, {"label_smoothing", 0.1f}}, 32},
  };
  for (const Case& cs : cases) {
    SCOPED_TRACE(cs.name);
    LossGraph plain(cs.n, cs.c, cs.attrs, cs.t), fused(cs.n, cs.c, cs.attrs, cs.t);
    EXPECT_EQ(passes::fuse_loss_gradient(fused.g), 1);
    verify(fused.g);
    EXPECT_EQ(count_ops(fused.g, "SoftmaxCrossEntropyAndGrad"), 1);
    EXPECT_EQ(count_ops(fused.g, "SoftmaxCrossEntropy") + count_ops(fused.g, "SoftmaxCrossEntropyGrad"), 0);
    const int64_t ignore = plain.g.nodes()[0]->attr_int("ignore_index");
    const Feeds f(cs.n, cs.c, ignore, 7 + cs.n, cs.t);
    const auto [loss, dlogits] = run(plain.g, f, 1);
    const auto [fused_loss, fused_dlogits] = run(fused.g, f, 1);
    EXPECT_TRUE(same_bits(loss, fused_loss));
    EXPECT_TRUE(same_bits(dlogits, fused_dlogits));
    const auto [loss2, dlogits2] = run(fused.g, f, 2);
    EXPECT_TRUE(same_bits(loss2, fused_loss)) << "2 threads";
    EXPECT_TRUE(same_bits(dlogits2, fused_dlogits)) << "2 threads";

    // The formulas, in double: -sum_j target_j log softmax(x)_j with target (1 - eps) onehot + eps / C
    // (PyTorch's label smoothing) summed over kept rows, divided by the kept count (mean), the
    // global count (scale_count) or 1 (sum); the gradient (softmax - target) / D.
    const float* x = f.x.data<float>();
    const int64_t* labels = f.labels.data<int64_t>();
    int64_t kept = 0;
    for (int64_t i = 0; i < cs.n; ++i) kept += labels[i] != ignore;
    const bool sum = cs.attrs.count("reduction");
    const double divisor =
        sum ? 1.0 : cs.attrs.count("scale_count") ? double(std::get<int64_t>(cs.attrs.at("scale_count"))) : double(kept);
    const double eps = cs.attrs.count("label_smoothing") ? double(std::get<float>(cs.attrs.at("label_smoothing"))) : 0.0;
    double total = 0;
    for (int64_t i = 0; i < cs.n; ++i) {
      const float* row = x + i * cs.c;
      double m = row[0], s = 0;
      for (int64_t j = 0; j < cs.c; ++j) m = std::max<double>(m, row[j]);
      for (int64_t j = 0; j < cs.c; ++j) s += std::exp(row[j] - m);
      for (int64_t j = 0; j < cs.c; ++j) {
        const double target = (1 - eps) * (j == labels[i]) + eps / double(cs.c);
        const double want = labels[i] == ignore ? 0.0 : (std::exp(row[j] - m) / s - target) / divisor;
        ASSERT_NEAR(fused_dlogits.data<float>()[i * cs.c + j], want, 1e-6 / divisor + 1e-9) << i << "," << j;
        if (labels[i] != ignore) total -= target * (row[j] - m - std::log(s));
      }
    }
    EXPECT_NEAR(fused_loss.data<float>()[0], total / divisor, 2e-6 * std::abs(total / divisor));
  }
}

TEST(LossFusion, LeavesThePairAloneWhereFusingWouldBeWrong) {
  {  // a node between the two reads the loss: it would run before the fused node computes it
    LossGraph lg(4, 3, {});
    Value* doubled = lg.g.add_value("doubled", {});
    Node* add = lg.g.add_node("Add", {lg.loss, lg.loss}, {doubled}, {}, "doubled");
    lg.g.move_before(add, lg.g.nodes()[2].get());  // after the loss and the seed, before the gradient
    lg.g.outputs.push_back(doubled);
    infer_graph_types(lg.g);
    EXPECT_EQ(passes::fuse_loss_gradient(lg.g), 0);
  }
  {  // the seed is computed from the loss
    LossGraph lg(4, 3, {});
    Node* grad = lg.g.nodes().back().get();
    Value* from_loss = lg.g.add_value("seed_from_loss", {});
    Node* neg = lg.g.add_node("Neg", {lg.loss}, {from_loss}, {}, "neg");
    lg.g.move_before(neg, grad);
    grad->inputs[2] = from_loss;
    infer_graph_types(lg.g);
    EXPECT_EQ(passes::fuse_loss_gradient(lg.g), 0);
  }
  {  // a gradient autodiff did not make for this loss (another loss's: other attributes)
    LossGraph lg(4, 3, {});
    lg.g.nodes().back()->attrs["reduction"] = std::string("sum");
    lg.g.nodes().back()->gradient_of = nullptr;
    EXPECT_EQ(passes::fuse_loss_gradient(lg.g), 0);
  }
}

TEST(LossFusion, BadLabelsAreOneLineErrorsNamingTheNode) {
  LossGraph lg(4, 3, {});
  passes::fuse_loss_gradient(lg.g);
  Feeds f(4, 3, kNoIgnoreIndex, 1);
  f.labels.data<int64_t>()[2] = 3;
  try {
    run(lg.g, f, 1);
    FAIL() << "label 3 of 3 classes accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("loss/and_grad"), std::string::npos) << msg;
    EXPECT_NE(msg.find("label 3 out of range [0, 3)"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

}  // namespace
