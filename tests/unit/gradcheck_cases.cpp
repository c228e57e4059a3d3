// One or more finite-difference cases per op with a gradient rule (see gradcheck.h). Inputs are
// small; values are kept away from kinks where the op has them.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>

#include "gradcheck.h"

namespace fc::test {

using ir::Tensor;


FC_GRAD_CASES(add_cases) {
  auto labels = Tensor::from_vector<int64_t>({4}, {0, 2, 1, 2});
  cases.push_back({.label = "SoftmaxCrossEntropy", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 1, -2, 2), labels}});
  cases.push_back({.label = "SoftmaxCrossEntropy scale_count", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 2, -2, 2), labels}, .attrs = {{"scale_count", int64_t{8}}}});
  cases.push_back({.label = "SoftmaxCrossEntropy sum, ignore_index", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 9, -2, 2), Tensor::from_vector<int64_t>({4}, {0, -100, 1, 2})},
                   .attrs = {{"reduction", std::string("sum")}, {"ignore_index", int64_t{-100}}}});
  cases.push_back({.label = "SoftmaxCrossEntropy mean, ignore_index", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 10, -2, 2), Tensor::from_vector<int64_t>({4}, {2, 1, 1, 2})},
                   .attrs = {{"ignore_index", int64_t{1}}}});
  cases.push_back({.label = "SoftmaxCrossEntropy label_smoothing, ignore_index", .op = "SoftmaxCrossEntropy",
                   .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 11, -2, 2), Tensor::from_vector<int64_t>({4}, {0, -100, 2, 2})},
                   .attrs = {{"ignore_index", int64_t{-100}}, {"label_smoothing", 0.2f}}});
  cases.push_back({.label = "SoftmaxCrossEntropy tokens [N, T, V], label_smoothing", .op = "SoftmaxCrossEntropy",
                   .domain = "fc",
                   .inputs = {random_tensor({2, 3, 5}, 12, -2, 2),
                              Tensor::from_vector<int64_t>({2, 3}, {4, 0, 1, 1, 3, 2})},
                   .attrs = {{"label_smoothing", 0.1f}}});
  cases.push_back({.label = "BatchNormTraining", .op = "BatchNormTraining", .domain = "fc",
                   .inputs = {random_tensor({3, 2, 2, 2}, 3), random_tensor({2}, 4, 0.5f, 1.5f),
                              random_tensor({2}, 5), random_tensor({2}, 6), random_tensor({2}, 7, 0.5f, 1.5f)},
                   .num_outputs = 5, .check_inputs = {0, 1, 2}, .seeded_outputs = {0}});
  cases.push_back({.label = "DropoutTraining", .op = "DropoutTraining", .domain = "fc",
                   .inputs = {random_tensor({4, 5}, 8), Tensor::from_vector<int64_t>({2}, {7, 3})},
                   .attrs = {{"ratio", 0.3f}}, .num_outputs = 2, .check_inputs = {0}, .seeded_outputs = {0}});
  // --- conv/pool/gemm/lrn (dnnl) ---
  {
    using Ints = std::vector<int64_t>;
    // Pool inputs: a shuffle of well-separated values, so no window has a near-tie for its maximum
    // that a finite-difference step could flip.
    auto distinct = [](std::vector<int64_t> dims, uint64_t seed) {
      Tensor r = random_tensor(dims, seed);
      Tensor t(ir::DType::F32, dims);
      const int64_t n = static_cast<int64_t>(t.numel());
      std::vector<int64_t> order(n);
      for (int64_t i = 0; i < n; ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return r.data<float>()[a] < r.data<float>()[b]; });
      for (int64_t i = 0; i < n; ++i) t.data<float>()[order[i]] = -1.0f + 2.0f * static_cast<float>(i) / float(n);
      return t;
    };
    cases.push_back({.label = "Conv 2d pads bias", .op = "Conv",
                     .inputs = {random_tensor({2, 3, 4, 4}, 101), random_tensor({4, 3, 3, 3}, 102),
                                random_tensor({4}, 103)},
                     .attrs = {{"pads", Ints{1, 1, 1, 1}}}});
    cases.push_back({.label = "Conv groups strides dilations asymmetric pads", .op = "Conv",
                     .inputs = {random_tensor({1, 4, 6, 5}, 104), random_tensor({4, 2, 2, 2}, 105)},
                     .attrs = {{"group", int64_t{2}}, {"strides", Ints{2, 1}}, {"dilations", Ints{1, 2}},
                               {"pads", Ints{0, 1, 1, 0}}}});
    cases.push_back({.label = "Conv 1d depthwise SAME_UPPER stride 2", .op = "Conv",
                     .inputs = {random_tensor({2, 3, 7}, 106), random_tensor({3, 1, 3}, 107), random_tensor({3}, 108)},
                     .attrs = {{"group", int64_t{3}}, {"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2}}}});
    cases.push_back({.label = "Conv 3d", .op = "Conv",
                     .inputs = {random_tensor({1, 2, 3, 3, 3}, 109), random_tensor({2, 2, 2, 2, 2}, 110)}});
    cases.push_back({.label = "Conv bias only", .op = "Conv",
                     .inputs = {random_tensor({2, 2, 3, 3}, 111), random_tensor({3, 2, 2, 2}, 112),
                                random_tensor({3}, 113)},
                     .check_inputs = {2}});
    cases.push_back({.label = "MaxPool 2d pads ceil_mode", .op = "MaxPool", .inputs = {distinct({1, 2, 5, 5}, 114)},
                     .attrs = {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 0, 1, 1}},
                               {"ceil_mode", int64_t{1}}},
                     .step = 1e-3});
    cases.push_back({.label = "MaxPool 1d dilation", .op = "MaxPool", .inputs = {distinct({2, 2, 9}, 115)},
                     .attrs = {{"kernel_shape", Ints{2}}, {"dilations", Ints{3}}, {"strides", Ints{2}}},
                     .step = 1e-3});
    cases.push_back({.label = "MaxPool 3d overlapping", .op = "MaxPool", .inputs = {distinct({1, 1, 3, 4, 4}, 116)},
                     .attrs = {{"kernel_shape", Ints{2, 2, 2}}}, .step = 1e-3});
    cases.push_back({.label = "AveragePool count_include_pad ceil_mode", .op = "AveragePool",
                     .inputs = {random_tensor({1, 2, 6, 5}, 117)},
                     .attrs = {{"kernel_shape", Ints{3, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 0}},
                               {"ceil_mode", int64_t{1}}, {"count_include_pad", int64_t{1}}}});
    cases.push_back({.label = "AveragePool exclude pad ceil_mode", .op = "AveragePool",
                     .inputs = {random_tensor({1, 2, 6, 5}, 118)},
                     .attrs = {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 0, 0, 1}},
                               {"ceil_mode", int64_t{1}}}});
    cases.push_back({.label = "AveragePool 1d SAME_LOWER", .op = "AveragePool", .inputs = {random_tensor({2, 2, 7}, 119)},
                     .attrs = {{"kernel_shape", Ints{4}}, {"strides", Ints{3}}, {"auto_pad", std::string("SAME_LOWER")}}});
    cases.push_back({.label = "GlobalAveragePool", .op = "GlobalAveragePool", .inputs = {random_tensor({2, 3, 3, 2}, 120)}});
    cases.push_back({.label = "GlobalMaxPool", .op = "GlobalMaxPool", .inputs = {distinct({2, 3, 3, 2}, 121)},
                     .step = 1e-3});
    cases.push_back({.label = "Gemm plain", .op = "Gemm",
                     .inputs = {random_tensor({3, 4}, 122), random_tensor({4, 2}, 123), random_tensor({3, 2}, 124)}});
    cases.push_back({.label = "Gemm transA alpha beta, C row", .op = "Gemm",
                     .inputs = {random_tensor({4, 3}, 125), random_tensor({4, 2}, 126), random_tensor({2}, 127)},
                     .attrs = {{"transA", int64_t{1}}, {"alpha", 0.5f}, {"beta", 2.0f}}});
    cases.push_back({.label = "Gemm transB, C column", .op = "Gemm",
                     .inputs = {random_tensor({3, 4}, 128), random_tensor({2, 4}, 129), random_tensor({3, 1}, 130)},
                     .attrs = {{"transB", int64_t{1}}, {"beta", -1.5f}}});
    cases.push_back({.label = "Gemm transA transB, no C", .op = "Gemm",
                     .inputs = {random_tensor({4, 3}, 131), random_tensor({2, 4}, 132)},
                     .attrs = {{"transA", int64_t{1}}, {"transB", int64_t{1}}, {"alpha", 1.5f}}});
    cases.push_back({.label = "MatMul 2d", .op = "MatMul", .inputs = {random_tensor({3, 4}, 133), random_tensor({4, 2}, 134)}});
    cases.push_back({.label = "MatMul batched x 2d", .op = "MatMul",
                     .inputs = {random_tensor({2, 3, 4}, 135), random_tensor({4, 2}, 136)}});
    cases.push_back({.label = "MatMul broadcast batches", .op = "MatMul",
                     .inputs = {random_tensor({2, 1, 3, 4}, 137), random_tensor({3, 4, 2}, 138)}});
    cases.push_back({.label = "MatMul 2d x batched", .op = "MatMul",
                     .inputs = {random_tensor({3, 4}, 139), random_tensor({2, 4, 2}, 140)}});
    cases.push_back({.label = "MatMul vector x batched", .op = "MatMul",
                     .inputs = {random_tensor({4}, 141), random_tensor({2, 4, 3}, 142)}});
    cases.push_back({.label = "MatMul batched x vector", .op = "MatMul",
                     .inputs = {random_tensor({2, 3, 4}, 143), random_tensor({4}, 144)}});
    cases.push_back({.label = "MatMul vector x vector", .op = "MatMul",
                     .inputs = {random_tensor({4}, 145), random_tensor({4}, 146)}});
    cases.push_back({.label = "LRN size 3", .op = "LRN", .inputs = {random_tensor({2, 5, 2, 2}, 147)},
                     .attrs = {{"size", int64_t{3}}, {"alpha", 0.5f}, {"beta", 0.75f}, {"bias", 1.5f}}});
    cases.push_back({.label = "LRN size 4", .op = "LRN", .inputs = {random_tensor({2, 6, 3}, 148)},
                     .attrs = {{"size", int64_t{4}}, {"alpha", 0.8f}, {"beta", 0.6f}, {"bias", 1.0f}}});
    cases.push_back({.label = "BatchNormalization inference", .op = "BatchNormalization",
                     .inputs = {random_tensor({3, 2, 2, 2}, 149), random_tensor({2}, 150, 0.5f, 1.5f),
                                random_tensor({2}, 151), random_tensor({2}, 152), random_tensor({2}, 153, 0.5f, 1.5f)},
                     .attrs = {{"epsilon", 1e-3f}}});
  }
  // --- elementwise math ---
  {
    using Ints = std::vector<int64_t>;
    using Attrs = std::map<std::string, ir::Attribute>;
    // Moves values within `gap` of any kink to kink +- gap, so no finite-difference step crosses it.
    auto avoid = [](Tensor t, std::vector<float> kinks, float gap) {
      for (size_t i = 0; i < t.numel(); ++i)
        for (float k : kinks) {
          float& v = t.data<float>()[i];
          if (std::fabs(v - k) < gap) v = v < k ? k - gap : k + gap;
        }
      return t;
    };
    // Tensors whose values, over all of them together, are a shuffle of evenly spaced values in
    // [-1, 1): no two elements compared by Max/Min/ReduceMax are within a finite-difference step.
    auto distinct = [](std::vector<Ints> shapes, uint64_t seed) {
      int64_t n = 0;
      for (const Ints& s : shapes) n += Tensor(ir::DType::F32, s).numel();
      Tensor r = random_tensor({n}, seed);
      std::vector<int64_t> order(n);
      for (int64_t i = 0; i < n; ++i) order[i] = i;
      const float* rv = r.data<float>();
      std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return rv[a] < rv[b]; });
      std::vector<float> v(n);
      for (int64_t i = 0; i < n; ++i) v[order[i]] = -1.0f + 2.0f * static_cast<float>(i) / float(n);
      std::vector<Tensor> out;
      int64_t k = 0;
      for (const Ints& s : shapes) {
        Tensor t(ir::DType::F32, s);
        for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = v[k++];
        out.push_back(t);
      }
      return out;
    };
    auto unary = [&](const char* label, const char* op, Tensor x, Attrs attrs = {}) {
      cases.push_back({.label = label, .op = op, .inputs = {x}, .attrs = std::move(attrs)});
    };
    unary("Relu", "Relu", random_tensor({3, 4}, 201, -1, 1, 0.1f));
    unary("LeakyRelu alpha 0.1", "LeakyRelu", random_tensor({3, 4}, 202, -1, 1, 0.1f), {{"alpha", 0.1f}});
    unary("Clip min max", "Clip", avoid(random_tensor({3, 4}, 203), {-0.5f, 0.4f}, 0.05f),
          {{"min", -0.5f}, {"max", 0.4f}});
    unary("Clip min only", "Clip", random_tensor({3, 4}, 204, -1, 1, 0.1f), {{"min", 0.0f}});
    unary("Sigmoid", "Sigmoid", random_tensor({3, 4}, 205, -3, 3));
    unary("Tanh", "Tanh", random_tensor({3, 4}, 206, -2, 2));
    unary("HardSigmoid default", "HardSigmoid", avoid(random_tensor({3, 4}, 207, -4, 4), {-2.5f, 2.5f}, 0.1f));
    unary("HardSigmoid alpha beta", "HardSigmoid", avoid(random_tensor({3, 4}, 208, -2, 2), {-0.5f, 1.5f}, 0.05f),
          {{"alpha", 0.5f}, {"beta", 0.25f}});
    unary("HardSwish", "HardSwish", avoid(random_tensor({3, 4}, 209, -5, 5), {-3.0f, 3.0f}, 0.1f));
    unary("Erf", "Erf", random_tensor({3, 4}, 210, -2, 2));
    unary("Gelu", "Gelu", random_tensor({3, 4}, 231, -3, 3));
    unary("Gelu tanh", "Gelu", random_tensor({3, 4}, 232, -3, 3), {{"approximate", std::string("tanh")}});
    unary("Sqrt", "Sqrt", random_tensor({3, 4}, 211, 0.5f, 3));
    unary("Exp", "Exp", random_tensor({3, 4}, 212, -2, 2));
    unary("Log", "Log", random_tensor({3, 4}, 213, 0.5f, 3));
    unary("Neg", "Neg", random_tensor({3, 4}, 214));
    unary("Abs", "Abs", random_tensor({3, 4}, 215, -1, 1, 0.1f));
    unary("Reciprocal", "Reciprocal", random_tensor({3, 4}, 216, -2, 2, 0.5f));
    unary("Softplus", "Softplus", random_tensor({3, 4}, 217, -4, 4));
    unary("Elu alpha 0.5", "Elu", random_tensor({3, 4}, 218, -2, 2, 0.1f), {{"alpha", 0.5f}});
    unary("Selu", "Selu", random_tensor({3, 4}, 219, -2, 2, 0.1f));

    // Broadcasting binary ops: same shape, [2,3,4] with [3,1], with a scalar, and the smaller on the left.
    auto binary = [&](const char* op, Tensor a, Tensor b, Attrs attrs = {}) {
      std::string label = std::string(op) + " " + ir::to_string(a.type()) + " " + ir::to_string(b.type());
      cases.push_back({.label = label, .op = op, .inputs = {a, b}, .attrs = std::move(attrs)});
    };
    uint64_t seed = 220;
    for (const char* op : {"Add", "Sub", "Mul"}) {
      for (const auto& [a, b] : std::vector<std::pair<Ints, Ints>>{
               {{2, 3}, {2, 3}}, {{2, 3, 4}, {3, 1}}, {{2, 3, 4}, {}}, {{3, 1}, {2, 3, 4}}}) {
        binary(op, random_tensor(a, seed), random_tensor(b, seed + 1));
        seed += 2;
      }
    }
    binary("Div", random_tensor({2, 3}, 240), random_tensor({2, 3}, 241, -2, 2, 0.5f));
    binary("Div", random_tensor({2, 3, 4}, 242), random_tensor({3, 1}, 243, -2, 2, 0.5f));
    binary("Div", random_tensor({2, 3, 4}, 244), random_tensor({}, 245, 0.5f, 2));
    binary("Div", random_tensor({3, 1}, 246), random_tensor({2, 3, 4}, 247, -2, 2, 0.5f));
    binary("Pow", random_tensor({2, 3}, 248, 0.5f, 2), random_tensor({2, 3}, 249, -1.5f, 1.5f));
    binary("Pow", random_tensor({2, 3, 4}, 250, 0.5f, 2), random_tensor({3, 1}, 251, -1.5f, 1.5f));
    binary("Pow", random_tensor({2, 3, 4}, 252, 0.5f, 2), random_tensor({}, 253, -1.5f, 1.5f));
    binary("Pow", random_tensor({3, 1}, 254, 0.5f, 2), random_tensor({2, 3, 4}, 255, -1.5f, 1.5f));
    binary("Pow", random_tensor({2, 4}, 256, -2, 2, 0.2f), Tensor::from_vector<int64_t>({4}, {2, 3, -1, 0}));
    for (const char* op : {"Max", "Min"}) {
      std::vector<Tensor> s = distinct({{3, 4}, {3, 4}}, 257);
      binary(op, s[0], s[1]);
      s = distinct({{2, 3, 4}, {3, 1}}, 258);
      binary(op, s[0], s[1]);
      s = distinct({{3, 1}, {2, 3, 4}, {}}, 259);
      cases.push_back({.label = std::string(op) + " of three, broadcast", .op = op, .inputs = s});
      cases.push_back({.label = std::string(op) + " of one", .op = op, .inputs = {random_tensor({2, 3}, 260)}});
    }
    for (const char* op : {"Sum", "Mean"}) {
      cases.push_back({.label = std::string(op) + " of three, broadcast", .op = op,
                       .inputs = {random_tensor({2, 3}, 261), random_tensor({3}, 262), random_tensor({}, 263)}});
      cases.push_back({.label = std::string(op) + " of two", .op = op,
                       .inputs = {random_tensor({2, 3}, 264), random_tensor({2, 3}, 265)}});
    }
    Tensor cond(ir::DType::Bool, {2, 3, 1});
    for (size_t i = 0; i < cond.numel(); ++i) cond.data<bool>()[i] = (i * 7) % 3 != 0;
    cases.push_back({.label = "Where broadcast cond [2,3,1] x [2,3,4] y [3,1]", .op = "Where",
                     .inputs = {cond, random_tensor({2, 3, 4}, 266), random_tensor({3, 1}, 267)}});
    cases.push_back({.label = "Where scalar x", .op = "Where",
                     .inputs = {cond, random_tensor({}, 268), random_tensor({2, 3, 4}, 269)}});

    // Reductions over [2,3,4]: keepdims 0/1, negative axes, all axes.
    auto reduce = [&](const char* op, Tensor x, std::optional<Ints> axes, int64_t keepdims) {
      Attrs attrs{{"keepdims", keepdims}};
      std::string label = std::string(op) + " keepdims " + std::to_string(keepdims) + " axes";
      if (axes) {
        attrs["axes"] = *axes;
        for (int64_t a : *axes) label += " " + std::to_string(a);
      } else {
        label += " (all)";
      }
      cases.push_back({.label = label, .op = op, .inputs = {x}, .attrs = attrs});
    };
    reduce("ReduceSum", random_tensor({2, 3, 4}, 270), Ints{1}, 1);
    reduce("ReduceSum", random_tensor({2, 3, 4}, 271), Ints{-1}, 0);
    reduce("ReduceSum", random_tensor({2, 3, 4}, 272), Ints{0, 2}, 1);
    reduce("ReduceSum", random_tensor({2, 3, 4}, 273), std::nullopt, 0);
    reduce("ReduceMean", random_tensor({2, 3, 4}, 274), Ints{-2}, 0);
    reduce("ReduceMean", random_tensor({2, 3, 4}, 275), Ints{0, -1}, 1);
    reduce("ReduceMean", random_tensor({2, 3, 4}, 276), std::nullopt, 1);
    reduce("ReduceMax", distinct({{2, 3, 4}}, 277)[0], Ints{1}, 0);
    reduce("ReduceMax", distinct({{2, 3, 4}}, 278)[0], Ints{-1, 0}, 1);
    reduce("ReduceMax", distinct({{2, 3, 4}}, 279)[0], std::nullopt, 0);
    reduce("ReduceMin", distinct({{2, 3, 4}}, 280)[0], Ints{2}, 0);
    reduce("ReduceMin", distinct({{2, 3, 4}}, 281)[0], Ints{-3}, 1);

    for (const char* op : {"Softmax", "LogSoftmax"})
      for (int64_t axis : {1, -1, 0})
        cases.push_back({.label = std::string(op) + " axis " + std::to_string(axis), .op = op,
                         .inputs = {random_tensor({2, 3, 4}, 282 + axis, -2, 2)}, .attrs = {{"axis", axis}}});

    {  // attention scores under a causal mask: -inf above the diagonal of each [4, 4] block
      Tensor scores = random_tensor({2, 4, 4}, 285, -2, 2);
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t r = 0; r < 4; ++r)
          for (int64_t c = r + 1; c < 4; ++c) scores.data<float>()[(b * 4 + r) * 4 + c] = -INFINITY;
      cases.push_back({.label = "Softmax causal mask (-inf)", .op = "Softmax", .inputs = {scores},
                       .attrs = {{"axis", int64_t{-1}}}});
    }
    {  // fused attention: q [2, T, 3], kt [2, 3, S], v [2, S, 4]; y seeded (lse has no gradient)
      auto bool_mask = [](int64_t t, int64_t s, bool keep_lower) {
        Tensor m(ir::DType::Bool, {t, s});
        for (int64_t r = 0; r < t; ++r)
          for (int64_t c = 0; c < s; ++c) m.data<bool>()[r * s + c] = (c <= r) == keep_lower;
        return m;
      };
      auto attention = [&](std::string label, int64_t t, int64_t s, Tensor mask, int64_t keep, uint64_t seed) {
        cases.push_back({.label = "Attention " + label, .op = "Attention", .domain = "fc",
                         .inputs = {random_tensor({2, t, 3}, seed, -1.5f, 1.5f), random_tensor({2, 3, s}, seed + 1),
                                    random_tensor({2, s, 4}, seed + 2), Tensor::scalar<float>(0.7f), mask},
                         .attrs = {{"mask_keep", keep}}, .num_outputs = 2, .check_inputs = {0, 1, 2},
                         .seeded_outputs = {0}});
      };
      attention("no mask, S != T", 3, 5, Tensor(), 0, 300);
      attention("causal bool mask (true excludes)", 5, 5, bool_mask(5, 5, false), 0, 303);
      attention("causal bool mask (true keeps)", 5, 5, bool_mask(5, 5, true), 1, 306);
      Tensor bias = random_tensor({1, 4, 4}, 309);
      bias.data<float>()[3] = -INFINITY;
      attention("additive f32 mask with -inf", 4, 4, bias, 0, 310);
    }
    cases.push_back({.label = "LayerNormalization axis -1 with Mean/InvStdDev outputs", .op = "LayerNormalization",
                     .inputs = {random_tensor({2, 3, 4}, 285, -2, 2), random_tensor({4}, 286, 0.5f, 1.5f),
                                random_tensor({4}, 287)},
                     .num_outputs = 3});
    cases.push_back({.label = "LayerNormalization axis -2", .op = "LayerNormalization",
                     .inputs = {random_tensor({2, 3, 4}, 288, -2, 2), random_tensor({3, 4}, 289, 0.5f, 1.5f),
                                random_tensor({3, 4}, 290)},
                     .attrs = {{"axis", int64_t{-2}}, {"epsilon", 1e-3f}}});
    cases.push_back({.label = "LayerNormalization axis 1, broadcast Scale [4] and B [1,4], Y only seeded",
                     .op = "LayerNormalization",
                     .inputs = {random_tensor({2, 3, 4}, 291, -2, 2), random_tensor({4}, 292, 0.5f, 1.5f),
                                random_tensor({1, 4}, 293)},
                     .attrs = {{"axis", int64_t{1}}}, .num_outputs = 3, .seeded_outputs = {0}});
    cases.push_back({.label = "LayerNormalization Y and Mean outputs (statistics recomputed)",
                     .op = "LayerNormalization",
                     .inputs = {random_tensor({3, 5}, 296, -2, 2), random_tensor({5}, 297, 0.5f, 1.5f)},
                     .num_outputs = 2});
    cases.push_back({.label = "LayerNormalization no B, Scale only", .op = "LayerNormalization",
                     .inputs = {random_tensor({3, 5}, 294, -2, 2), random_tensor({5}, 295, 0.5f, 1.5f)},
                     .check_inputs = {1}});
  }
}

}  // namespace fc::test
