// Max pooling with the window choices recorded for the backward (passes/saved_outputs.h):
// fc.MaxPoolTraining against a naive reference with PyTorch's rule (the first of equal maxima in
// window order, a NaN counts as the maximum and a later NaN replaces an earlier one), on the shapes
// that take each of the search's ways (wide rows in 8-window runs with an overlapping last run and
// single windows at the edges, stride 1 / 2 / 3, narrow planes eight at a time with a plane count
// not a multiple of 8, dilation, 1-D, 3-D); fc.MaxPoolGrad from the recorded argmax gives the bytes
// of fc.MaxPoolGrad searching x again; MaxPool's gradient rule offers its argmax, and the
// saved-outputs pass (passes/saved_outputs.h) pairs each MaxPool with its own gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "ir/text_format.h"
#include "ir/verifier.h"
#include "op_test_util.h"
#include "passes/autodiff.h"
#include "passes/saved_outputs.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dims() == b.dims() && a.nbytes() == b.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

struct Geometry {  // per spatial axis (1-3 of them)
  Ints kernel, strides, dilations, pads_begin, pads_end;
  bool ceil_mode = false;
};

Attrs attrs_of(const Geometry& g) {
  Ints pads = g.pads_begin;
  pads.insert(pads.end(), g.pads_end.begin(), g.pads_end.end());
  return {{"kernel_shape", g.kernel}, {"strides", g.strides}, {"dilations", g.dilations},
          {"pads", pads},             {"ceil_mode", int64_t{g.ceil_mode}}};
}

// PyTorch's output size, with its ceil-mode rule (the last window starts inside the input or the
// left padding).
int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe, bool ceil_mode) {
  const int64_t span = in + pb + pe - (d * (k - 1) + 1);
  int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (o - 1) * s >= in + pb) --o;
  return o;
}

struct Reference {
  Ints dims;                  // y's dims
  std::vector<float> y;
  std::vector<int32_t> argmax;  // offsets in the (n, c) plane
};

// The naive loop: every window's taps in row-major order, skipping those outside x.
Reference reference(const Tensor& x, const Geometry& g) {
  const Ints& xd = x.dims();
  const size_t k = xd.size() - 2;
  Ints in(3, 1), out(3, 1), kern(3, 1), str(3, 1), dil(3, 1), pb(3, 0);
  Reference r{{xd[0], xd[1]}, {}, {}};
  for (size_t a = 0; a < k; ++a) {
    const size_t t = 3 - k + a;
    in[t] = xd[2 + a], kern[t] = g.kernel[a], str[t] = g.strides[a], dil[t] = g.dilations[a], pb[t] = g.pads_begin[a];
    out[t] = out_size(in[t], kern[t], str[t], dil[t], pb[t], g.pads_end[a], g.ceil_mode);
    r.dims.push_back(out[t]);
  }
  const float* xv = x.data<float>();
  const int64_t planes = xd[0] * xd[1], in_plane = in[0] * in[1] * in[2];
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t o0 = 0; o0 < out[0]; ++o0)
      for (int64_t o1 = 0; o1 < out[1]; ++o1)
        for (int64_t o2 = 0; o2 < out[2]; ++o2) {
          int64_t best = -1;
          for (int64_t j0 = 0; j0 < kern[0]; ++j0)
            for (int64_t j1 = 0; j1 < kern[1]; ++j1)
              for (int64_t j2 = 0; j2 < kern[2]; ++j2) {
                const int64_t i0 = o0 * str[0] - pb[0] + j0 * dil[0], i1 = o1 * str[1] - pb[1] + j1 * dil[1],
                              i2 = o2 * str[2] - pb[2] + j2 * dil[2];
                if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2]) continue;
                const int64_t i = (i0 * in[1] + i1) * in[2] + i2;
                const float v = xv[p * in_plane + i];
                if (best < 0 || v > xv[p * in_plane + best] || std::isnan(v)) best = i;
              }
          r.argmax.push_back(static_cast<int32_t>(best));
          r.y.push_back(xv[p * in_plane + best]);
        }
  return r;
}

struct Case {
  std::string name;
  Ints x;
  Geometry g;
};

std::vector<Case> cases() {
  return {
      // 29 -> 14 (SqueezeNet's first pool): runs of 8 windows, the second overlapping the first.
      {"3x3/2 ceil, wide", {2, 3, 29, 29}, {{3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, true}},
      // Padding cuts the first and last windows of each row: single windows around a run.
      {"3x3/1 pads, wide", {1, 3, 9, 21}, {{3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false}},
      // Stride 3: the run's loads with a stride known only at run time; the ceil window is partial.
      {"2x4/3 ceil, wide", {1, 2, 7, 41}, {{2, 4}, {3, 3}, {1, 1}, {0, 0}, {0, 0}, true}},
      // 14 -> 7 and 7 -> 3 (narrow planes, eight at a time; 11 planes leave 3 for the last block).
      {"3x3/2 ceil, narrow", {1, 11, 14, 14}, {{3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, true}},
      {"3x3/2, 7x7 planes", {2, 9, 7, 7}, {{3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, false}},
      {"2x2 dilated, pads", {2, 5, 9, 12}, {{2, 2}, {1, 2}, {2, 2}, {1, 0}, {0, 1}, false}},
      {"1-D k3/2 pads", {3, 4, 17}, {{3}, {2}, {1}, {1}, {1}, false}},
      {"1-D k3/2 pads, wide", {2, 3, 41}, {{3}, {2}, {1}, {1}, {1}, false}},
      // 8 -> 8 with padding: 6 whole windows a row, too few for runs: planes eight at a time.
      {"3x3/1 pads, 8 wide", {2, 5, 8, 8}, {{3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true}},
      {"3-D 2x2x2/1", {1, 3, 3, 4, 5}, {{2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, false}},
  };
}

// Values with many ties (a third are 0, as after a ReLU, some repeat exactly) and, when asked, NaNs.
Tensor pool_input(const Ints& dims, uint32_t seed, bool nans) {
  Tensor x(DType::F32, dims);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(0, 29);
  float* p = x.data<float>();
  for (size_t i = 0; i < x.numel(); ++i) {
    const int r = pick(rng);
    p[i] = r < 10 ? 0.0f : r < 12 ? 0.5f : (r < 14 && nans) ? std::nanf("") : float(r) * 0.37f - 4.0f;
  }
  return x;
}

}  // namespace

TEST(MaxPoolArgmax, TrainingForwardMatchesTheReference) {
  for (const Case& c : cases())
    for (bool nans : {false, true}) {
      SCOPED_TRACE(c.name + (nans ? ", with NaNs" : ""));
      const Tensor x = pool_input(c.x, 11, nans);
      const Reference want = reference(x, c.g);
      for (int threads : {1, 2}) {
        const std::vector<Tensor> got = test::run_op("fc.MaxPoolTraining", {x}, attrs_of(c.g), 2, {}, threads).outputs;
        ASSERT_EQ(got[0].dims(), want.dims);
        ASSERT_EQ(got[1].dtype(), DType::I32);
        EXPECT_EQ(std::memcmp(got[0].raw(), want.y.data(), want.y.size() * sizeof(float)), 0);
        const int32_t* argmax = got[1].data<int32_t>();
        EXPECT_EQ(std::vector<int32_t>(argmax, argmax + got[1].numel()), want.argmax);
      }
      // y is also MaxPool's (inference), bit for bit, NaNs included.
      const Tensor y = test::run_op("MaxPool", {x}, attrs_of(c.g)).outputs[0];
      EXPECT_EQ(std::memcmp(y.raw(), want.y.data(), want.y.size() * sizeof(float)), 0);
      // ONNX's Indices output: the same maxima as offsets into the whole flattened x, within each
      // plane row-major (storage_order 0) or column-major (1: the first spatial axis fastest).
      const Ints spatial(c.x.begin() + 2, c.x.end());
      int64_t in_plane = 1;
      for (int64_t d : spatial) in_plane *= d;
      const int64_t out_plane = static_cast<int64_t>(want.argmax.size()) / (c.x[0] * c.x[1]);
      for (int64_t order : {0, 1}) {
        Attrs a = attrs_of(c.g);
        a["storage_order"] = order;
        const std::vector<Tensor> r = test::run_op("MaxPool", {x}, a, 2).outputs;
        ASSERT_EQ(r[1].dtype(), DType::I64);
        ASSERT_EQ(r[1].numel(), want.argmax.size());
        for (size_t k = 0; k < want.argmax.size(); ++k) {
          int64_t offset = want.argmax[k], column = 0;
          if (order == 1) {
            for (size_t d = spatial.size(); d-- > 0;) {  // row-major digits, last axis first
              const int64_t digit = offset % spatial[d];
              offset /= spatial[d];
              int64_t place = 1;
              for (size_t e = 0; e < d; ++e) place *= spatial[e];
              column += digit * place;
            }
            offset = column;
          }
          ASSERT_EQ(r[1].data<int64_t>()[k], static_cast<int64_t>(k) / out_plane * in_plane + offset) << "order " << order << " k " << k;
        }
      }
    }
}

TEST(MaxPoolArgmax, GradientFromTheRecordGivesTheSearchsBytes) {
  for (const Case& c : cases())
    for (bool nans : {false, true}) {
      SCOPED_TRACE(c.name + (nans ? ", with NaNs" : ""));
      const Tensor x = pool_input(c.x, 12, nans);
      const std::vector<Tensor> fwd = test::run_op("fc.MaxPoolTraining", {x}, attrs_of(c.g), 2).outputs;
      std::mt19937 rng(3);
      std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
      Tensor dy(DType::F32, fwd[0].dims());
      for (size_t i = 0; i < dy.numel(); ++i) dy.data<float>()[i] = dist(rng);
      const Tensor searched = test::run_op("fc.MaxPoolGrad", {dy, x}, attrs_of(c.g)).outputs[0];
      for (int threads : {1, 2}) {
        const test::OpRun recorded = test::run_op("fc.MaxPoolGrad", {dy, x, fwd[1]}, attrs_of(c.g), 1, {}, threads);
        EXPECT_TRUE(same_bytes(recorded.outputs[0], searched));
      }
      // And both are the reference's routing: dx[argmax] += dy, in output order.
      const Reference want = reference(x, c.g);
      const size_t planes = static_cast<size_t>(c.x[0] * c.x[1]);
      const size_t out_plane = dy.numel() / planes, in_plane = x.numel() / planes;
      std::vector<float> dx(x.numel(), 0.0f);
      for (size_t o = 0; o < dy.numel(); ++o)
        dx[o / out_plane * in_plane + static_cast<size_t>(want.argmax[o])] += dy.data<float>()[o];
      EXPECT_TRUE(same_bytes(searched, Tensor::from_vector<float>(c.x, dx)));
    }
}

TEST(MaxPoolArgmax, GradientRuleOffersTheArgmaxUnlessIndicesAreAsked) {
  for (int outputs : {1, 2}) {
    Graph g;
    Value* x = g.add_param("x", pool_input({1, 2, 4, 4}, 3, false));
    std::vector<Value*> ys = {g.add_value("y", {})};
    if (outputs == 2) ys.push_back(g.add_value("indices", {}));
    g.add_node("MaxPool", {x}, ys, {{"kernel_shape", std::vector<int64_t>{2, 2}}}, "pool");
    infer_graph_types(g);
    Tensor seed(DType::F32, ys[0]->type.sizes());
    const passes::Gradients gr = passes::build_vjp(g, {{ys[0], g.add_param("seed", seed)}}, {x});
    SCOPED_TRACE(outputs);
    if (outputs == 2) {
      EXPECT_TRUE(gr.saved_output_offers.empty());
      continue;
    }
    ASSERT_EQ(gr.saved_output_offers.size(), 1u);
    const ir::SavedOutputOffer& o = gr.saved_output_offers[0];
    EXPECT_EQ(o.forward, "pool");
    EXPECT_EQ(g.value(gr.of.at(x)->name)->producer->name, o.grad);
    EXPECT_EQ(o.domain + "." + o.training_op, "fc.MaxPoolTraining");
    EXPECT_EQ(o.output, 1u);
  }
}

TEST(MaxPoolArgmax, PassPairsEachMaxPoolWithItsOwnGradient) {
  // p1's gradient reads its argmax, and a second gradient of p1 shares the one record; p2 has no
  // gradient and keeps the search, as does a MaxPoolGrad no rule offered it for (dw). Provenance
  // (Node::gradient_of) and offers are set here as autodiff and MaxPool's rule set them.
  const char* text = R"(graph main(%x: f32[2,3,8,8], %dy: f32[2,3,4,4], %dz: f32[2,3,4,4]) -> (%y: f32[2,3,4,4], %z: f32[2,3,7,7], %dx: f32[2,3,8,8], %dx2: f32[2,3,8,8], %dw: f32[2,3,8,8]) opset 17 {
    %y: f32[2,3,4,4] = MaxPool(%x) {kernel_shape = [2, 2], strides = [2, 2]}
    %z: f32[2,3,7,7] = MaxPool(%x) {kernel_shape = [2, 2]}
    %dx: f32[2,3,8,8] = fc.MaxPoolGrad(%dy, %x) {kernel_shape = [2, 2], strides = [2, 2]}
    %dx2: f32[2,3,8,8] = fc.MaxPoolGrad(%dz, %x) {kernel_shape = [2, 2], strides = [2, 2]}
    %dw: f32[2,3,8,8] = fc.MaxPoolGrad(%dy, %x) {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 0, 0]}
  })";
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::map<std::string, Tensor> feeds{{"x", pool_input({2, 3, 8, 8}, 5, false)}};
  for (const char* d : {"dy", "dz"}) {
    Tensor t(DType::F32, {2, 3, 4, 4});
    for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
    feeds[d] = t;
  }
  const auto run = [&](const Graph& g) {
    runtime::cpu::CpuBackend cpu(1);
    runtime::Executor ex(g, cpu);
    return ex.run(feeds);
  };
  const auto before = run(parse_graph(text));
  Graph g = parse_graph(text);
  g.value("dx")->producer->gradient_of = g.value("y")->producer;
  g.value("dx2")->producer->gradient_of = g.value("y")->producer;
  const auto offer = [&](const char* grad) {
    return ir::SavedOutputOffer{g.value("y")->producer->name, g.value(grad)->producer->name, "MaxPoolTraining", "fc",
                                1, "argmax"};
  };
  EXPECT_EQ(passes::apply_saved_outputs(g, {offer("dx"), offer("dx2")}), 1);
  verify(g);
  const Node& p1 = *g.value("y")->producer;
  EXPECT_EQ(p1.domain + "." + p1.op, "fc.MaxPoolTraining");
  ASSERT_EQ(p1.outputs.size(), 2u);
  EXPECT_EQ(g.value("z")->producer->op, "MaxPool");
  EXPECT_EQ(g.value("dx")->producer->inputs.back(), p1.outputs[1]);
  EXPECT_EQ(g.value("dx2")->producer->inputs.back(), p1.outputs[1]);
  EXPECT_EQ(g.value("dw")->producer->inputs.size(), 2u);
  const auto after = run(g);
  for (const auto& [name, t] : before) EXPECT_TRUE(same_bytes(after.at(name), t)) << name;
}
