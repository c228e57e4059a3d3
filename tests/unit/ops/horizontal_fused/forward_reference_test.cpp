// fc.HorizontalFused as the compiler makes it: the optimizer updates of one bucket (SGD with
// Nesterov momentum and weight decay; AdamW) fused by passes/update_fusion.h, the resulting node
// (encoded program, segments, in_place, inputs) then run alone and every segment's outputs compared
// with torch.optim's formulas of the original updates, in double, here.
// Tolerance as tests/unit/ops/optimizer_updates/: 16 ulps (2^-24) of the sum of the absolute values
// of each formula's terms (`mag`), a bound on a short float chain's rounding error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ir/hyperparams.h"
#include "op_test_util.h"
#include "ops_math_test_util.h"
#include "passes/update_fusion.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

const std::vector<std::vector<int64_t>> kShapes = {{3, 5}, {7}, {2, 2, 3}, {5000}};
constexpr float kLr = 0.05f, kMomentum = 0.9f, kDampening = 0.1f, kWd = 0.01f, kB1 = 0.9f, kB2 = 0.999f, kEps = 1e-8f;
constexpr float kStep = 2;

Tensor hyper() {
  std::vector<float> h(ir::kHyperSize, 0.0f);
  h[ir::kHyperLr] = kLr, h[ir::kHyperMomentum] = kMomentum, h[ir::kHyperDampening] = kDampening;
  h[ir::kHyperWeightDecay] = kWd, h[ir::kHyperBeta1] = kB1, h[ir::kHyperBeta2] = kB2, h[ir::kHyperEps] = kEps;
  h[ir::kHyperStep] = kStep;
  ir::derive_hyperparams(h.data());
  return Tensor::from_vector<float>({ir::kHyperSize}, h);
}

void expect_within(const Tensor& got, const std::vector<double>& want, const std::vector<double>& mag, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(got.numel(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_LE(std::abs(double(got.data<float>()[i]) - want[i]), 16 * 0x1p-24 * mag[i] + 1e-30) << "element " << i;
}

// One update node per parameter, gradients as graph inputs (one producer: none), fused; returns the
// fused node's run with its inputs taken from `feeds` by name.
struct Fused {
  std::map<std::string, Tensor> feeds;
  test::OpRun run;
  std::vector<std::string> outputs;  // the fused node's output names, in order
};

Fused fuse_and_run(const std::string& op, int64_t nesterov) {
  ir::Graph g;
  Fused f;
  ir::Value* h = g.add_value(ir::kHyperInputName, hyper().type());
  g.inputs.push_back(h);
  f.feeds[ir::kHyperInputName] = hyper();
  for (size_t p = 0; p < kShapes.size(); ++p) {
    const std::string name = "w" + std::to_string(p);
    auto add_input = [&](const std::string& n, Tensor t) {
      ir::Value* v = g.add_value(n, t.type());
      g.inputs.push_back(v);
      f.feeds[n] = std::move(t);
      return v;
    };
    ir::Value* w = add_input(name, random_f32(kShapes[p], 10 + uint32_t(p), -1, 1));
    ir::Value* grad = add_input(name + ".g", random_f32(kShapes[p], 20 + uint32_t(p), -1, 1));
    std::vector<ir::Value*> outs = {g.add_value(name + "'", {})};
    if (op == "SGDUpdate") {
      ir::Value* buf = add_input(name + ".buf", random_f32(kShapes[p], 30 + uint32_t(p), -1, 1));
      outs.push_back(g.add_value(name + ".buf'", {}));
      g.add_node(op, {w, grad, h, buf}, outs, {{"nesterov", nesterov}}, name + "/sgd")->domain = "fc";
    } else {
      ir::Value* m = add_input(name + ".m", random_f32(kShapes[p], 40 + uint32_t(p), -0.1f, 0.1f));
      ir::Value* v = add_input(name + ".v", random_f32(kShapes[p], 50 + uint32_t(p), 0.0f, 0.01f));
      outs.push_back(g.add_value(name + ".m'", {}));
      outs.push_back(g.add_value(name + ".v'", {}));
      g.add_node(op, {w, grad, m, v, h}, outs, {}, name + "/adamw")->domain = "fc";
    }
    for (ir::Value* o : outs) g.outputs.push_back(o);
  }
  ir::infer_graph_types(g);
  EXPECT_EQ(passes::fuse_updates(g).nodes_fused, int64_t(kShapes.size()));
  EXPECT_EQ(g.nodes().size(), 1u);
  const ir::Node& node = *g.nodes()[0];
  EXPECT_EQ(node.op, "HorizontalFused");
  EXPECT_EQ(node.attr_int("segments"), int64_t(kShapes.size()));
  std::vector<Tensor> in;
  for (const ir::Value* v : node.inputs) in.push_back(f.feeds.at(v->name));
  for (const ir::Value* o : node.outputs) f.outputs.push_back(o->name);
  // The references below read f.feeds after the run: the in_place pairs never write into a graph
  // input's buffer (a caller's feed), and if they did, the references would disagree and fail.
  f.run = test::run_op("fc.HorizontalFused", in, node.attrs, static_cast<int>(node.outputs.size()));
  return f;
}

size_t index_of(const Fused& f, const std::string& name) {
  return size_t(std::find(f.outputs.begin(), f.outputs.end(), name) - f.outputs.begin());
}

TEST(HorizontalFusedForward, FusedSgdBucketMatchesTorchSGD) {
  for (int64_t nesterov : {0, 1}) {
    SCOPED_TRACE(nesterov);
    Fused f = fuse_and_run("SGDUpdate", nesterov);
    for (size_t p = 0; p < kShapes.size(); ++p) {
      const std::string name = "w" + std::to_string(p);
      const auto W = test::values<float>(f.feeds.at(name)), G = test::values<float>(f.feeds.at(name + ".g"));
      const auto B = test::values<float>(f.feeds.at(name + ".buf"));
      std::vector<double> ww, mw, wb, mb;
      for (size_t i = 0; i < W.size(); ++i) {
        // Not the first step (kStep 2): buf = momentum buf + (1 - dampening) d.
        const double d = G[i] + double(kWd) * W[i], md = std::abs(G[i]) + kWd * std::abs(W[i]);
        const double nb = double(kMomentum) * B[i] + (1 - double(kDampening)) * d;
        const double mnb = kMomentum * std::abs(B[i]) + (1 - double(kDampening)) * md;
        const double dir = nesterov ? d + double(kMomentum) * nb : nb, mdir = nesterov ? md + kMomentum * mnb : mnb;
        ww.push_back(W[i] - double(kLr) * dir), mw.push_back(std::abs(W[i]) + kLr * mdir);
        wb.push_back(nb), mb.push_back(mnb);
      }
      expect_within(f.run.outputs.at(index_of(f, name + "'")), ww, mw, name + "'");
      expect_within(f.run.outputs.at(index_of(f, name + ".buf'")), wb, mb, name + ".buf'");
    }
  }
}

TEST(HorizontalFusedForward, FusedAdamWBucketMatchesTorchAdamW) {
  Fused f = fuse_and_run("AdamWUpdate", 0);
  const double t = double(kStep) + 1, bc1 = 1 - std::pow(double(kB1), t), bc2 = 1 - std::pow(double(kB2), t);
  for (size_t p = 0; p < kShapes.size(); ++p) {
    const std::string name = "w" + std::to_string(p);
    const auto W = test::values<float>(f.feeds.at(name)), G = test::values<float>(f.feeds.at(name + ".g"));
    const auto M = test::values<float>(f.feeds.at(name + ".m")), V = test::values<float>(f.feeds.at(name + ".v"));
    std::vector<double> ww, mw, wm, mm, wv;
    for (size_t i = 0; i < W.size(); ++i) {
      const double wdec = W[i] * (1 - double(kLr) * kWd);
      const double nm = double(kB1) * M[i] + (1 - double(kB1)) * G[i];
      const double mnm = double(kB1) * std::abs(M[i]) + (1 - double(kB1)) * std::abs(G[i]);
      const double nv = double(kB2) * V[i] + (1 - double(kB2)) * G[i] * G[i];
      const double denom = std::sqrt(nv) / std::sqrt(bc2) + kEps;
      ww.push_back(wdec - kLr / bc1 * nm / denom), mw.push_back(std::abs(wdec) + kLr / bc1 * mnm / denom);
      wm.push_back(nm), mm.push_back(mnm), wv.push_back(nv);
    }
    expect_within(f.run.outputs.at(index_of(f, name + "'")), ww, mw, name + "'");
    expect_within(f.run.outputs.at(index_of(f, name + ".m'")), wm, mm, name + ".m'");
    expect_within(f.run.outputs.at(index_of(f, name + ".v'")), wv, wv, name + ".v'");
  }
}

}  // namespace
