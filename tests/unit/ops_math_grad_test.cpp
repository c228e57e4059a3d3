// Backward kernels of the elementwise math ops (fc.*Grad of ir/ops/elementwise_grads.cpp,
// reduce.cpp, softmax.cpp, layer_norm.cpp) against naive float64 reference loops written here,
// boundary values where PyTorch's formulas pick a side, the threaded paths against one thread, and
// the tie rules of Max/Min/ReduceMax through autodiff. (Finite-difference checks of every gradient
// rule are in gradcheck_cases.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

#include "op_test_util.h"
#include "ops_math_test_util.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Attribute;
using fc::ir::Tensor;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

// Runs one op (of `domain`) on the CPU backend with the inputs as graph inputs (undefined = omitted).
std::vector<Tensor> run(const std::string& op, const std::string& domain, const std::vector<Tensor>& inputs,
                        Attrs attrs = {}, int num_outputs = 1, int threads = 1) {
  ir::Graph g;
  std::vector<ir::Value*> ins;
  std::map<std::string, Tensor> feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) {
      ins.push_back(nullptr);
      continue;
    }
    const std::string name = "in" + std::to_string(i);
    ins.push_back(g.add_value(name, inputs[i].type()));
    g.inputs.push_back(ins.back());
    feeds[name] = inputs[i];
  }
  std::vector<ir::Value*> outs;
  for (int i = 0; i < num_outputs; ++i) outs.push_back(g.add_value("out" + std::to_string(i), {}));
  ir::Node* n = g.add_node(op, ins, outs, std::move(attrs), "test_" + op);
  n->domain = domain;
  g.outputs = outs;
  ir::infer_graph_types(g);
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor ex(g, cpu);
  auto res = ex.run(feeds);
  std::vector<Tensor> r;
  for (ir::Value* o : outs) r.push_back(res.at(o->name));
  return r;
}

Tensor from(const Ints& dims, const std::vector<float>& v) { return Tensor::from_vector<float>(dims, v); }

// ---- activation gradients ----

struct ActCase {
  const char* op;
  Attrs attrs;
  std::function<double(double dy, double s)> ref;  // s: the saved x or y
  float lo, hi;                                    // range of s
  std::vector<float> edges;                        // boundary values of s checked exactly
};

std::vector<ActCase> act_cases() {
  const double sixth = double(1.0f / 6.0f);
  return {
      {"ReluGrad", {}, [](double g, double y) { return y > 0 ? g : 0; }, 0, 3, {0.0f, 1e-30f}},
      {"LeakyReluGrad", {{"alpha", 0.2f}}, [](double g, double x) { return x > 0 ? g : double(0.2f) * g; }, -3, 3,
       {0.0f, -0.0f, 1e-30f}},
      {"ClipGrad", {{"min", -1.0f}, {"max", 0.5f}}, [](double g, double x) { return x >= -1 && x <= 0.5 ? g : 0; },
       -2, 2, {-1.0f, 0.5f, std::nextafter(-1.0f, -2.0f), std::nextafter(0.5f, 1.0f), NAN}},
      {"ClipGrad", {{"max", 0.0f}}, [](double g, double x) { return x <= 0 ? g : 0; }, -2, 2, {0.0f, 1e-30f}},
      {"SigmoidGrad", {}, [](double g, double y) { return g * y * (1 - y); }, 0, 1, {0.0f, 1.0f}},
      {"TanhGrad", {}, [](double g, double y) { return g * (1 - y * y); }, -1, 1, {-1.0f, 1.0f}},
      // alpha = 1/6 as PyTorch's hardsigmoid: zero at x = +-3 (PyTorch tests -3 < x < 3 strictly).
      {"HardSigmoidGrad", {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}},
       [sixth](double g, double x) { return x > -3 && x < 3 ? sixth * g : 0; }, -4, 4, {-3.0f, 3.0f, 2.999f, -2.999f}},
      {"HardSigmoidGrad", {}, [](double g, double x) { return x > -2.5 && x < 2.5 ? double(0.2f) * g : 0; }, -4, 4,
       {-2.5f, 2.5f}},
      {"HardSwishGrad", {}, [](double g, double x) { return x < -3 ? 0 : x <= 3 ? g * (x / 3 + 0.5) : g; }, -5, 5,
       {-3.0f, 3.0f, std::nextafter(-3.0f, -4.0f), std::nextafter(3.0f, 4.0f)}},
      {"ErfGrad", {}, [](double g, double x) { return g * 2 / std::sqrt(M_PI) * std::exp(-x * x); }, -4, 4, {0.0f}},
      {"GeluGrad", {},
       [](double g, double x) {
         return g * (0.5 * std::erfc(-x / std::sqrt(2.0)) + x * std::exp(-x * x / 2) / std::sqrt(2 * M_PI));
       },
       -6, 6, {0.0f}},
      {"SqrtGrad", {}, [](double g, double y) { return g / (2 * y); }, 0.01f, 10, {}},
      {"AbsGrad", {}, [](double g, double x) { return x > 0 ? g : x < 0 ? -g : 0; }, -3, 3, {0.0f, -0.0f}},
      {"ReciprocalGrad", {}, [](double g, double y) { return -g * y * y; }, -5, 5, {}},
      {"SoftplusGrad", {}, [](double g, double x) { return g / (1 + std::exp(-x)); }, -30, 30, {0.0f, 100.0f, -100.0f}},
      {"EluGrad", {{"alpha", 0.5f}}, [](double g, double x) { return x > 0 ? g : 0.5 * std::exp(x) * g; }, -4, 4,
       {0.0f}},
      {"EluGrad", {{"alpha", 1.6732632f}, {"gamma", 1.0507010f}},
       [](double g, double x) { return double(1.0507010f) * (x > 0 ? g : double(1.6732632f) * std::exp(x) * g); }, -4,
       4, {0.0f}},
  };
}

// Float formulas round ~3 times (PyTorch's order, PyTorch's error); double ones once.
TEST(MathGrad, ActivationGradsMatchFloat64Reference) {
  uint32_t seed = 11;
  for (const ActCase& c : act_cases()) {
    SCOPED_TRACE(c.op);
    Tensor s = random_f32({4, 33}, seed++, c.lo, c.hi);
    for (size_t i = 0; i < c.edges.size(); ++i) s.data<float>()[i] = c.edges[i];
    const Tensor dy = random_f32({4, 33}, seed++);
    const Tensor dx = run(c.op, "fc", {dy, s}, c.attrs)[0];
    std::vector<double> want(dx.numel());
    for (size_t i = 0; i < want.size(); ++i) want[i] = c.ref(dy.data<float>()[i], s.data<float>()[i]);
    expect_values<float>(dx, {4, 33}, want, 4e-7, 1e-37);
  }
}

TEST(MathGrad, ActivationGradsOnLargeInputsUseThreadsAndMatch) {
  const Tensor dy = random_f32({300, 301}, 3), x = random_f32({300, 301}, 4);
  for (const char* op : {"ReluGrad", "HardSwishGrad", "EluGrad"}) {
    const Tensor one = run(op, "fc", {dy, x}, {}, 1, 1)[0];
    const Tensor four = run(op, "fc", {dy, x}, {}, 1, 4)[0];
    EXPECT_EQ(0, std::memcmp(one.raw(), four.raw(), one.nbytes())) << op;
  }
}

TEST(MathGrad, ActivationGradRejectsMismatchedInputs) {
  EXPECT_THROW(run("ReluGrad", "fc", {random_f32({2, 3}, 1), random_f32({6}, 2)}), Error);
}

// ---- Pow ----

TEST(MathGrad, PowGradsBroadcastAndMatchReference) {
  const Ints out{2, 3, 4};
  Tensor a = random_f32({3, 1}, 5, 0.2f, 3.0f);
  Tensor b = random_f32({4}, 6, -2.0f, 2.0f);
  a.data<float>()[0] = 0.0f;  // 0^b: flat in b for b >= 0 (PyTorch's rule), b * 0^(b-1) in a
  b.data<float>()[0] = 0.0f;  // b = 0: zero base gradient, also at a = 0
  b.data<float>()[1] = 2.0f;
  const Tensor dy = random_f32(out, 7);
  const Tensor da = run("PowGradBase", "fc", {dy, a, b})[0];
  const Tensor db = run("PowGradExponent", "fc", {dy, a, b})[0];
  std::vector<double> want_a(numel(out)), want_b(numel(out));
  for (int64_t i = 0; i < numel(out); ++i) {
    const Ints idx = unravel(i, out);
    const double g = dy.data<float>()[i], av = a.data<float>()[broadcast_index(idx, {3, 1})],
                 bv = b.data<float>()[broadcast_index(idx, {4})];
    want_a[i] = bv == 0 ? 0 : g * bv * std::pow(av, bv - 1);
    want_b[i] = (av == 0 && bv >= 0) ? 0 : g * std::pow(av, bv) * std::log(av);
  }
  expect_values<float>(da, out, want_a, 2e-7);
  expect_values<float>(db, out, want_b, 2e-7);
  // An integer exponent.
  const Tensor bi = Tensor::from_vector<int64_t>({4}, {3, 0, -2, 1});
  const Tensor dai = run("PowGradBase", "fc", {dy, a, bi})[0];
  for (int64_t i = 0; i < numel(out); ++i) {
    const Ints idx = unravel(i, out);
    const double av = a.data<float>()[broadcast_index(idx, {3, 1})];
    const double bv = double(bi.data<int64_t>()[idx[2]]);
    want_a[i] = bv == 0 ? 0 : dy.data<float>()[i] * bv * std::pow(av, bv - 1);
  }
  expect_values<float>(dai, out, want_a, 2e-7);
}

// ---- reductions ----

// Output flat index of x's element `idx` for a reduction over `mask` (keepdims or not: same order).
int64_t reduced_index(const Ints& idx, const Ints& dims, const std::vector<bool>& mask) {
  int64_t o = 0;
  for (size_t d = 0; d < dims.size(); ++d)
    if (!mask[d]) o = o * dims[d] + idx[d];
  return o;
}

struct ReduceCase {
  Ints dims;
  std::optional<Ints> axes;
  int64_t keepdims;
};

std::vector<bool> mask_of(const ReduceCase& c) {
  std::vector<bool> m(c.dims.size(), !c.axes || c.axes->empty());
  if (c.axes)
    for (int64_t a : *c.axes) m[a < 0 ? a + int64_t(c.dims.size()) : a] = true;
  return m;
}

Attrs reduce_attrs(const ReduceCase& c) {
  Attrs at{{"keepdims", c.keepdims}};
  if (c.axes) at["axes"] = *c.axes;
  return at;
}

std::vector<ReduceCase> reduce_cases() {
  return {{{2, 3, 4}, Ints{1}, 1},   {{2, 3, 4}, Ints{-1}, 0},      {{2, 3, 4}, Ints{0, 2}, 0},
          {{2, 3, 4}, std::nullopt, 1}, {{5, 1, 300}, Ints{0}, 0}, {{2, 3, 1, 5}, Ints{-2, 1}, 1},
          {{3, 7}, Ints{}, 0}};
}

TEST(MathGrad, ReduceSumAndMeanGradsBroadcastBack) {
  uint32_t seed = 20;
  for (const ReduceCase& c : reduce_cases()) {
    SCOPED_TRACE(::testing::Message() << "dims " << c.dims.size() << " keepdims " << c.keepdims);
    const Tensor x = random_f32(c.dims, seed++);
    const Tensor y = run("ReduceSum", "", {x}, reduce_attrs(c))[0];  // for dy's shape
    const Tensor dy = random_f32(y.dims(), seed++);
    const std::vector<bool> mask = mask_of(c);
    int64_t count = 1;
    for (size_t d = 0; d < c.dims.size(); ++d) count *= mask[d] ? c.dims[d] : 1;
    const Tensor ds = run("ReduceSumGrad", "fc", {dy, x}, reduce_attrs(c))[0];
    const Tensor dm = run("ReduceMeanGrad", "fc", {dy, x}, reduce_attrs(c))[0];
    std::vector<double> want_s(x.numel()), want_m(x.numel());
    for (size_t i = 0; i < x.numel(); ++i) {
      const float g = dy.data<float>()[reduced_index(unravel(int64_t(i), c.dims), c.dims, mask)];
      want_s[i] = g;
      want_m[i] = g / float(count);  // PyTorch's grad / N, in float
    }
    expect_values<float>(ds, c.dims, want_s, 0);
    expect_values<float>(dm, c.dims, want_m, 0);
  }
}

// Ties: the gradient goes to the first maximal element in row-major order of the reduced axes.
TEST(MathGrad, ReduceSelectGradPicksFirstExtremum) {
  for (const ReduceCase& c : reduce_cases()) {
    Tensor x = random_f32(c.dims, 30);
    for (size_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::round(x.data<float>()[i]);  // many ties
    const std::vector<bool> mask = mask_of(c);
    for (const char* fwd : {"ReduceMax", "ReduceMin"}) {
      SCOPED_TRACE(fwd);
      const Tensor y = run(fwd, "", {x}, reduce_attrs(c))[0];
      const Tensor dy = random_f32(y.dims(), 31);
      const Tensor dx = run("ReduceSelectGrad", "fc", {dy, x, y}, reduce_attrs(c))[0];
      std::vector<double> want(x.numel(), 0.0);
      std::vector<bool> taken(y.numel(), false);
      for (size_t i = 0; i < x.numel(); ++i) {  // row-major walk: the first hit per output wins
        const int64_t o = reduced_index(unravel(int64_t(i), c.dims), c.dims, mask);
        if (!taken[o] && x.data<float>()[i] == y.data<float>()[o]) {
          want[i] = dy.data<float>()[o];
          taken[o] = true;
        }
      }
      expect_values<float>(dx, c.dims, want, 0);
    }
  }
}

TEST(MathGrad, ReduceGradsOnLargeInputsUseThreadsAndMatch) {
  const ReduceCase c{{40, 33, 50}, Ints{1}, 0};
  const Tensor x = random_f32(c.dims, 40);
  const Tensor y = run("ReduceMax", "", {x}, reduce_attrs(c))[0];
  const Tensor dy = random_f32(y.dims(), 41);
  for (const char* op : {"ReduceSumGrad", "ReduceMeanGrad", "ReduceSelectGrad"}) {
    std::vector<Tensor> in{dy, x};
    if (std::string(op) == "ReduceSelectGrad") in.push_back(y);
    const Tensor one = run(op, "fc", in, reduce_attrs(c), 1, 1)[0];
    const Tensor four = run(op, "fc", in, reduce_attrs(c), 1, 4)[0];
    EXPECT_EQ(0, std::memcmp(one.raw(), four.raw(), one.nbytes())) << op;
  }
}

// ---- Softmax / LogSoftmax ----

TEST(MathGrad, SoftmaxGradsMatchReference) {
  const Ints dims{2, 3, 5};
  uint32_t seed = 50;
  for (int64_t axis : {1, -1, 0}) {
    const int64_t ax = axis < 0 ? axis + 3 : axis;
    const Tensor x = random_f32(dims, seed++);
    const Tensor dy = random_f32(dims, seed++);
    for (bool log : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "axis " << axis << (log ? " LogSoftmax" : " Softmax"));
      const Tensor y = run(log ? "LogSoftmax" : "Softmax", "", {x}, {{"axis", axis}})[0];
      const Tensor dx = run(log ? "LogSoftmaxGrad" : "SoftmaxGrad", "fc", {dy, y}, {{"axis", axis}})[0];
      std::vector<double> want(dx.numel());
      for (int64_t i = 0; i < numel(dims); ++i) {
        Ints idx = unravel(i, dims);
        double s = 0;  // over the axis through element i
        for (int64_t k = 0; k < dims[ax]; ++k) {
          idx[ax] = k;
          int64_t j = 0;
          for (size_t d = 0; d < 3; ++d) j = j * dims[d] + idx[d];
          s += log ? double(dy.data<float>()[j]) : double(dy.data<float>()[j]) * y.data<float>()[j];
        }
        const double g = dy.data<float>()[i], yv = y.data<float>()[i];
        want[i] = log ? g - std::exp(yv) * s : yv * (g - s);
      }
      expect_values<float>(dx, dims, want, 2e-7, 1e-8);
    }
  }
}

TEST(MathGrad, SoftmaxGradsOnLargeInputsUseThreadsAndMatch) {
  const Ints dims{64, 40, 30};
  const Tensor y = run("Softmax", "", {random_f32(dims, 60)}, {{"axis", int64_t{1}}})[0];
  const Tensor dy = random_f32(dims, 61);
  for (const char* op : {"SoftmaxGrad", "LogSoftmaxGrad"}) {
    const Tensor one = run(op, "fc", {dy, y}, {{"axis", int64_t{1}}}, 1, 1)[0];
    const Tensor four = run(op, "fc", {dy, y}, {{"axis", int64_t{1}}}, 1, 4)[0];
    EXPECT_EQ(0, std::memcmp(one.raw(), four.raw(), one.nbytes())) << op;
  }
}

// ---- LayerNormalization ----

struct LnRef {
  std::vector<double> dx, dscale, db;
};

// Direct float64 evaluation of the textbook formulas (statistics recomputed from x, or the given
// float Mean/InvStdDev); scale as a full [D] vector; dmean/dinv optional per-row gradients.
LnRef ln_reference(const Tensor& dy, const Tensor& x, const std::vector<double>& scale, int64_t rows, int64_t d,
                   double eps, const float* mean_in, const float* inv_in, const float* dmean, const float* dinv) {
  LnRef r{std::vector<double>(rows * d), std::vector<double>(d, 0.0), std::vector<double>(d, 0.0)};
  for (int64_t i = 0; i < rows; ++i) {
    const float* xr = x.data<float>() + i * d;
    const float* gr = dy.data<float>() + i * d;
    double mean = 0, var = 0;
    for (int64_t j = 0; j < d; ++j) mean += xr[j];
    mean /= double(d);
    for (int64_t j = 0; j < d; ++j) var += (xr[j] - mean) * (xr[j] - mean);
    var /= double(d);
    double inv = 1 / std::sqrt(var + eps);
    if (mean_in) {
      mean = mean_in[i];
      inv = inv_in[i];
    }
    double mg = 0, mgx = 0;
    for (int64_t j = 0; j < d; ++j) {
      mg += gr[j] * scale[j] / double(d);
      mgx += gr[j] * scale[j] * (xr[j] - mean) * inv / double(d);
    }
    for (int64_t j = 0; j < d; ++j) {
      const double xhat = (xr[j] - mean) * inv;
      double v = inv * (gr[j] * scale[j] - mg - xhat * mgx);
      if (dmean) v += dmean[i] / double(d);
      if (dinv) v += dinv[i] * (-inv * inv * inv) * (xr[j] - mean) / double(d);
      r.dx[i * d + j] = v;
      r.dscale[j] += gr[j] * xhat;
      r.db[j] += gr[j];
    }
  }
  return r;
}

TEST(MathGrad, LayerNormGradMatchesReference) {
  // X [2, 3, 4] normalised over the last two dims, Scale [4] broadcast to [3, 4].
  const Ints dims{2, 3, 4};
  const Tensor x = random_f32(dims, 70), dy = random_f32(dims, 71), scale = random_f32({4}, 72, 0.5f, 1.5f);
  std::vector<double> scale_full(12);
  for (int j = 0; j < 12; ++j) scale_full[j] = scale.data<float>()[j % 4];
  const Attrs at{{"axis", int64_t{-2}}, {"epsilon", 1e-3f}};
  {
    SCOPED_TRACE("statistics recomputed");
    const auto out = run("LayerNormalizationGrad", "fc", {dy, x, scale}, at, 3);
    const LnRef ref = ln_reference(dy, x, scale_full, 2, 12, double(1e-3f), nullptr, nullptr, nullptr, nullptr);
    expect_values<float>(out[0], dims, ref.dx, 1e-6, 1e-7);
    expect_values<float>(out[1], {3, 4}, ref.dscale, 1e-6, 1e-7);
    expect_values<float>(out[2], {3, 4}, ref.db, 1e-6, 1e-7);
  }
  {
    SCOPED_TRACE("saved statistics and gradients into them");
    const auto fwd = run("LayerNormalization", "", {x, scale}, at, 3);
    const Tensor dmean = random_f32(fwd[1].dims(), 73), dinv = random_f32(fwd[2].dims(), 74);
    const auto out = run("LayerNormalizationGrad", "fc", {dy, x, scale, fwd[1], fwd[2], dmean, dinv}, at, 1);
    const LnRef ref = ln_reference(dy, x, scale_full, 2, 12, double(1e-3f), fwd[1].data<float>(),
                                   fwd[2].data<float>(), dmean.data<float>(), dinv.data<float>());
    expect_values<float>(out[0], dims, ref.dx, 1e-6, 1e-7);
  }
}

TEST(MathGrad, LayerNormGradOnLargeInputsUsesThreadsAndMatches) {
  // 3000 rows: more rows than column-sum blocks, so blocks hold several rows each.
  const Ints dims{3000, 24};
  const Tensor x = random_f32(dims, 80), dy = random_f32(dims, 81), scale = random_f32({24}, 82, 0.5f, 1.5f);
  const auto one = run("LayerNormalizationGrad", "fc", {dy, x, scale}, {}, 3, 1);
  const auto four = run("LayerNormalizationGrad", "fc", {dy, x, scale}, {}, 3, 4);
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(0, std::memcmp(one[k].raw(), four[k].raw(), one[k].nbytes())) << k;
  std::vector<double> scale_full(scale.data<float>(), scale.data<float>() + 24);
  const LnRef ref = ln_reference(dy, x, scale_full, 3000, 24, double(1e-5f), nullptr, nullptr, nullptr, nullptr);
  expect_values<float>(one[0], dims, ref.dx, 1e-6, 1e-6);
  expect_values<float>(one[1], {24}, ref.dscale, 1e-6, 1e-5);
  expect_values<float>(one[2], {24}, ref.db, 1e-6, 1e-5);
}

// ---- tie rules through autodiff ----

// d/d(inputs) of sum(seed * op(inputs)) built by autodiff and run.
std::vector<Tensor> vjp(const std::string& op, const std::vector<Tensor>& inputs, const Tensor& seed,
                        Attrs attrs = {}) {
  ir::Graph g;
  std::vector<ir::Value*> params;
  for (size_t i = 0; i < inputs.size(); ++i) params.push_back(g.add_param("p" + std::to_string(i), inputs[i]));
  ir::Value* y = g.add_value("y", {});
  g.add_node(op, params, {y}, std::move(attrs), "op");
  ir::infer_graph_types(g);
  passes::Gradients gr = passes::build_vjp(g, {{y, g.add_param("seed", seed)}}, params);
  for (ir::Value* p : params) g.outputs.push_back(gr.of.at(p));
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  auto out = ex.run({});
  std::vector<Tensor> r;
  for (ir::Value* p : params) r.push_back(out.at(gr.of.at(p)->name));
  return r;
}

TEST(MathGrad, MaxMinSendTiesToTheFirstInput) {
  const Tensor a = from({4}, {1, 2, 3, 4}), b = from({4}, {1, 5, 3, 0}), c = from({4}, {1, 5, 2, 4});
  const Tensor seed = from({4}, {10, 20, 30, 40});
  auto g = vjp("Max", {a, b, c}, seed);
  EXPECT_EQ(test::values<float>(g[0]), (std::vector<float>{10, 0, 30, 40}));
  EXPECT_EQ(test::values<float>(g[1]), (std::vector<float>{0, 20, 0, 0}));
  EXPECT_EQ(test::values<float>(g[2]), (std::vector<float>{0, 0, 0, 0}));
  g = vjp("Min", {a, b, c}, seed);
  EXPECT_EQ(test::values<float>(g[0]), (std::vector<float>{10, 20, 0, 0}));
  EXPECT_EQ(test::values<float>(g[1]), (std::vector<float>{0, 0, 0, 40}));
  EXPECT_EQ(test::values<float>(g[2]), (std::vector<float>{0, 0, 30, 0}));
  // Broadcast: a scalar input that ties with some elements collects their gradient summed.
  g = vjp("Max", {from({}, {3}), from({4}, {1, 3, 5, 3})}, seed);
  EXPECT_EQ(test::values<float>(g[0]), (std::vector<float>{10 + 20 + 40}));
  EXPECT_EQ(test::values<float>(g[1]), (std::vector<float>{0, 0, 30, 0}));
}

TEST(MathGrad, ReduceMaxSendsTiesToTheFirstElement) {
  const Tensor x = from({2, 3}, {2, 7, 7, 5, 5, 1});
  const auto g = vjp("ReduceMax", {x}, from({2}, {1, 2}), {{"axes", Ints{1}}, {"keepdims", int64_t{0}}});
  EXPECT_EQ(test::values<float>(g[0]), (std::vector<float>{0, 1, 0, 2, 0, 0}));
}

TEST(MathGrad, NonDifferentiableOpsHaveNoRule) {
  for (const char* op : {"Floor", "Ceil", "Equal", "Less", "Greater", "Not"}) {
    const ir::OpSchema* s = ir::OpRegistry::global().find(op);
    ASSERT_TRUE(s) << op;
    EXPECT_FALSE(s->gradient) << op;
  }
}

}  // namespace
