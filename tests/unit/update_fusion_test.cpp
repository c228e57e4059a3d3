// Update fusion (passes/update_fusion.h) and the JIT kernels of the optimizer updates: SGD (momentum,
// dampening, Nesterov, weight decay, first step, momentum 0 at run time, no buffer) and AdamW on
// parameters of several shapes, fused into one fc.HorizontalFused node and unfused, for three steps.
// Fused and unfused agree bit for bit; both agree with torch.optim's formulas computed here in
// double precision, independently of the scalar forms; the fused node keeps the updates in place.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "gradcheck.h"
#include "ir/hyperparams.h"
#include "ir/in_place.h"
#include "ir/op_registry.h"
#include "ir/scalar_form.h"
#include "ir/verifier.h"
#include "passes/update_fusion.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

struct Setting {
  std::string optimizer = "sgd";
  bool buffer = true;    // SGD: the graph keeps a momentum buffer
  bool nesterov = false;
  float lr = 0.1f, momentum = 0.9f, dampening = 0.1f, weight_decay = 0.01f;
};

// Four parameters of different shapes; the last is large enough that two threads split the bucket
// inside a segment. Gradients are graph inputs g0..g3, so every update has the same (no) producer.
const std::vector<std::vector<int64_t>> kShapes = {{3, 5}, {7}, {2, 2, 3}, {40000}};

struct UpdateGraph {
  Graph g;
  std::vector<Value*> weights, states;  // states: momentum buffers, or m and v per weight
  explicit UpdateGraph(const Setting& s) {
    Value* hyper = g.add_value(kHyperInputName, TensorType(DType::F32, {Dim::known(kHyperSize)}));
    g.inputs.push_back(hyper);
    for (size_t p = 0; p < kShapes.size(); ++p) {
      const std::string name = "w" + std::to_string(p);
      Value* w = g.add_param(name, test::random_tensor(kShapes[p], 100 + p));
      std::vector<Dim> dims;
      for (int64_t d : kShapes[p]) dims.push_back(Dim::known(d));
      Value* grad = g.add_value("g" + std::to_string(p), TensorType(DType::F32, dims));
      g.inputs.push_back(grad);
      weights.push_back(w);
      Value* w_next = g.add_value(name + "/next", {});
      g.state_updates.emplace_back(w, w_next);
      if (s.optimizer == "adamw") {
        Value* m = g.add_param(name + ".m", Tensor(DType::F32, kShapes[p]));
        Value* v = g.add_param(name + ".v", Tensor(DType::F32, kShapes[p]));
        Value* m_next = g.add_value(name + ".m/next", {});
        Value* v_next = g.add_value(name + ".v/next", {});
        g.add_node("AdamWUpdate", {w, grad, m, v, hyper}, {w_next, m_next, v_next}, {}, name + "/adamw")->domain = "fc";
        g.state_updates.emplace_back(m, m_next);
        g.state_updates.emplace_back(v, v_next);
        states.insert(states.end(), {m, v});
      } else if (s.buffer) {
        Value* buf = g.add_param(name + ".buf", Tensor(DType::F32, kShapes[p]));
        Value* buf_next = g.add_value(name + ".buf/next", {});
        g.add_node("SGDUpdate", {w, grad, hyper, buf}, {w_next, buf_next}, {{"nesterov", int64_t{s.nesterov}}},
                   name + "/sgd")->domain = "fc";
        g.state_updates.emplace_back(buf, buf_next);
        states.push_back(buf);
      } else {
        g.add_node("SGDUpdate", {w, grad, hyper}, {w_next}, {{"nesterov", int64_t{0}}}, name + "/sgd")->domain = "fc";
      }
    }
    infer_graph_types(g);
  }
};

std::vector<float> hyper_of(const Setting& s, int step) {
  std::vector<float> h(kHyperSize, 0.0f);
  h[kHyperLr] = s.lr;
  h[kHyperMomentum] = s.momentum;
  h[kHyperDampening] = s.dampening;
  h[kHyperWeightDecay] = s.weight_decay;
  h[kHyperBeta1] = 0.9f;
  h[kHyperBeta2] = 0.999f;
  h[kHyperEps] = 1e-8f;
  h[kHyperStep] = static_cast<float>(step);
  derive_hyperparams(h.data());
  return h;
}

Tensor grad_of(size_t p, int step) { return test::random_tensor(kShapes[p], 1000 + 10 * step + p, -1.0f, 1.0f); }

constexpr int kSteps = 3;

// The weights after kSteps steps, as raw floats per parameter.
std::vector<std::vector<float>> train(const Graph& g, int threads, const Setting& s) {
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor ex(g, cpu);
  for (int step = 0; step < kSteps; ++step) {
    std::map<std::string, Tensor> feeds{{kHyperInputName, Tensor::from_vector<float>({kHyperSize}, hyper_of(s, step))}};
    for (size_t p = 0; p < kShapes.size(); ++p) feeds["g" + std::to_string(p)] = grad_of(p, step);
    ex.run(feeds);
  }
  std::vector<std::vector<float>> w;
  for (size_t p = 0; p < kShapes.size(); ++p) {
    const Tensor& t = ex.state(g.find_value("w" + std::to_string(p)));
    w.emplace_back(t.data<float>(), t.data<float>() + t.numel());
  }
  return w;
}

// torch.optim.SGD / AdamW in double, written from their documentation, not from the scalar forms.
std::vector<std::vector<double>> reference(const Setting& s) {
  std::vector<std::vector<double>> result;
  for (size_t p = 0; p < kShapes.size(); ++p) {
    const Tensor w0 = test::random_tensor(kShapes[p], 100 + p);
    const size_t n = w0.numel();
    std::vector<double> w(w0.data<float>(), w0.data<float>() + n), a(n, 0.0), b(n, 0.0);
    for (int step = 0; step < kSteps; ++step) {
      const Tensor gt = grad_of(p, step);
      const double lr = s.lr, wd = s.weight_decay, mu = s.momentum, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
      for (size_t i = 0; i < n; ++i) {
        const double g = gt.data<float>()[i];
        if (s.optimizer == "adamw") {
          const double t = step + 1;
          w[i] *= 1 - lr * wd;
          a[i] = b1 * a[i] + (1 - b1) * g;
          b[i] = b2 * b[i] + (1 - b2) * g * g;
          const double denom = std::sqrt(b[i]) / std::sqrt(1 - std::pow(b2, t)) + eps;
          w[i] -= lr / (1 - std::pow(b1, t)) * a[i] / denom;
        } else {
          double d = g + wd * w[i];
          if (s.buffer && mu != 0) {
            a[i] = step == 0 ? d : mu * a[i] + (1 - s.dampening) * d;
            d = s.nesterov ? d + mu * a[i] : a[i];
          }
          w[i] -= lr * d;
        }
      }
    }
    result.push_back(w);
  }
  return result;
}

void check_setting(const Setting& s) {
  UpdateGraph plain(s), fused(s);
  const passes::UpdateFusionStats stats = passes::fuse_updates(fused.g);
  verify(fused.g);
  EXPECT_EQ(stats.groups, 1);
  EXPECT_EQ(stats.nodes_fused, 4);
  ASSERT_EQ(fused.g.nodes().size(), 1u);
  const Node& node = *fused.g.nodes()[0];
  EXPECT_EQ(node.op, "HorizontalFused");
  EXPECT_EQ(node.attr_int("segments"), 4);
  EXPECT_TRUE(is_optimizer_update(node));  // the trace's and the simulator's "optimizer" phase
  // Every update stays in place: each weight and each optimizer state.
  EXPECT_EQ(in_place_state_updates(fused.g).size(), plain.g.state_updates.size());
  EXPECT_EQ(in_place_state_updates(plain.g).size(), plain.g.state_updates.size());

  const auto want = reference(s);
  for (int threads : {1, 2}) {
    const auto a = train(plain.g, threads, s), b = train(fused.g, threads, s);
    for (size_t p = 0; p < kShapes.size(); ++p) {
      ASSERT_EQ(a[p].size(), b[p].size());
      EXPECT_EQ(std::memcmp(a[p].data(), b[p].data(), a[p].size() * sizeof(float)), 0)
          << "w" << p << ": fused and unfused differ (" << threads << " threads)";
      for (size_t i = 0; i < a[p].size(); ++i)
        ASSERT_NEAR(b[p][i], want[p][i], 2e-6 * std::max(1.0, std::fabs(want[p][i])))
            << "w" << p << "[" << i << "], " << threads << " threads";
    }
  }
}

}  // namespace

TEST(UpdateFusion, SgdMomentumDampeningWeightDecay) { check_setting({}); }
TEST(UpdateFusion, SgdNesterov) { check_setting({.nesterov = true, .dampening = 0.0f}); }
TEST(UpdateFusion, SgdMomentumZeroAtRunTimeKeepsTheBuffer) { check_setting({.momentum = 0.0f}); }
TEST(UpdateFusion, SgdWithoutBufferOrWeightDecay) { check_setting({.buffer = false, .weight_decay = 0.0f}); }
TEST(UpdateFusion, AdamW) { check_setting({.optimizer = "adamw", .lr = 0.01f}); }

TEST(UpdateFusion, LeavesAGroupWhoseOutputIsReadBetweenItsMembers) {
  UpdateGraph u(Setting{});
  // A node after the first update reads its new weights: fusing would run it before they exist.
  Value* out = u.g.add_value("late", {});
  Node* reader = u.g.add_node("Add", {u.g.find_value("w0/next"), u.g.find_value("w0/next")}, {out}, {}, "reader");
  u.g.move_before(reader, u.g.nodes()[1].get());
  u.g.outputs = {out};
  infer_graph_types(u.g);
  EXPECT_EQ(passes::fuse_updates(u.g).groups, 0);
}

TEST(UpdateFusion, MomentumZeroLeavesTheBufferUntouched) {
  // With momentum 0 at run time the buffer passes through bit for bit (torch never touches it).
  const Setting s{.momentum = 0.0f};
  UpdateGraph u(s);
  passes::fuse_updates(u.g);
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(u.g, cpu);
  Tensor& buf = const_cast<Tensor&>(ex.state(u.states[0]));
  for (size_t i = 0; i < buf.numel(); ++i) buf.data<float>()[i] = static_cast<float>(i) + 0.5f;
  std::map<std::string, Tensor> feeds{{kHyperInputName, Tensor::from_vector<float>({kHyperSize}, hyper_of(s, 1))}};
  for (size_t p = 0; p < kShapes.size(); ++p) feeds["g" + std::to_string(p)] = grad_of(p, 1);
  ex.run(feeds);
  const Tensor& after = ex.state(u.states[0]);
  for (size_t i = 0; i < after.numel(); ++i) ASSERT_EQ(after.data<float>()[i], static_cast<float>(i) + 0.5f) << i;
}

TEST(UpdateFusion, OnlyAFusionOfUpdatesIsAnUpdate) {
  // A horizontal fusion of other ops (none is made today) must not count as the optimizer phase.
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::known(4)}));
  Value* y = g.add_value("y", {});
  Node* n = g.add_node("HorizontalFused", {x}, {y},
                       {{"program", std::string("%0 = load 0; %1 = relu %0; out 0 %1")},
                        {"segments", int64_t{1}},
                        {"ops", std::vector<std::string>{"Relu"}}},
                       "relus");
  n->domain = "fc";
  EXPECT_FALSE(is_optimizer_update(*n));
  n->attrs["ops"] = std::vector<std::string>{"fc.AdamWUpdate"};
  EXPECT_TRUE(is_optimizer_update(*n));
}
