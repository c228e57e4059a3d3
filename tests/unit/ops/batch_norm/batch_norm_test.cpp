// BatchNormalization (inference and training_mode=1) on the CPU backend (oneDNN) against naive
// float64 loops implementing the ONNX formula; its shape function and errors.
#include <gtest/gtest.h>

#include <cmath>

#include "ir/shape_util.h"
#include "op_test_util.h"
#include "ops_dnnl_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::ir;

namespace {

using V = std::vector<int64_t>;

struct BnInputs {
  Tensor x, scale, b, mean, var;
};

BnInputs bn_inputs(const V& dims, std::mt19937& rng) {
  const int64_t c = dims[1];
  return {test::random_tensor(dims, rng, -2, 3), test::random_tensor({c}, rng, 0.5f, 1.5f),
          test::random_tensor({c}, rng), test::random_tensor({c}, rng), test::random_tensor({c}, rng, 0.2f, 2.0f)};
}

// x: [N, C, S] (S = product of spatial dims); mean/var per channel.
std::vector<double> bn_apply(const BnInputs& in, const std::vector<double>& mean, const std::vector<double>& var,
                             double eps) {
  const int64_t n = in.x.dim(0), c = in.x.dim(1), s = product(in.x.dims(), 2);
  std::vector<double> y(in.x.numel());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t j = 0; j < s; ++j) {
        const int64_t idx = (i * c + ch) * s + j;
        y[idx] = test::at(in.scale, ch) * (test::at(in.x, idx) - mean[ch]) / std::sqrt(var[ch] + eps) +
                 test::at(in.b, ch);
      }
  return y;
}

std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> v(t.numel());
  for (size_t i = 0; i < v.size(); ++i) v[i] = test::at(t, i);
  return v;
}

}  // namespace

TEST(DnnlBatchNorm, InferenceMatchesReference) {
  for (const V& dims : {V{2, 3, 4, 5}, V{4, 6}, V{2, 16, 7, 7}, V{1, 5, 9}, V{2, 3, 2, 3, 4}})
    for (bool params : {false, true}) {
      SCOPED_TRACE(to_string(TensorType::concrete(DType::F32, dims)) + (params ? " (parameters)" : ""));
      std::mt19937 rng(17);
      BnInputs in = bn_inputs(dims, rng);
      const float eps = 1e-3f;
      test::OpRun r = test::run_op("BatchNormalization", {in.x, in.scale, in.b, in.mean, in.var}, {{"epsilon", eps}},
                                   1, {false, params, params, params, params});
      test::expect_close(r.outputs[0], dims, bn_apply(in, as_doubles(in.mean), as_doubles(in.var), double(eps)));
    }
}

TEST(DnnlBatchNorm, TrainingModeUsesBatchStatisticsAndUpdatesRunningStats) {
  for (const V& dims : {V{4, 3, 5, 6}, V{8, 5}}) {
    SCOPED_TRACE(to_string(TensorType::concrete(DType::F32, dims)));
    std::mt19937 rng(23);
    BnInputs in = bn_inputs(dims, rng);
    const int64_t n = dims[0], c = dims[1], s = product(dims, 2);
    std::vector<double> mean(c), var(c);
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < s; ++j) mean[ch] += test::at(in.x, (i * c + ch) * s + j) / double(n * s);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < s; ++j) {
          const double d = test::at(in.x, (i * c + ch) * s + j) - mean[ch];
          var[ch] += d * d / double(n * s);  // population variance, as ONNX specifies
        }
    }
    const double momentum = 0.8;
    std::vector<double> run_mean(c), run_var(c);
    for (int64_t ch = 0; ch < c; ++ch) {
      run_mean[ch] = test::at(in.mean, ch) * momentum + mean[ch] * (1 - momentum);
      run_var[ch] = test::at(in.var, ch) * momentum + var[ch] * (1 - momentum);
    }
    test::OpRun r = test::run_op("BatchNormalization", {in.x, in.scale, in.b, in.mean, in.var},
                                 {{"training_mode", int64_t{1}}, {"momentum", float(momentum)}}, 3);
    test::expect_close(r.outputs[0], dims, bn_apply(in, mean, var, 1e-5));
    test::expect_close(r.outputs[1], {c}, run_mean);
    test::expect_close(r.outputs[2], {c}, run_var);
    EXPECT_EQ(to_string(r.inferred[1]), "f32[" + std::to_string(c) + "]");
  }
}

TEST(DnnlBatchNorm, ShapeFunctionAndErrors) {
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::known(3), Dim::known(4), Dim::known(4)}));
  g.inputs = {x};
  std::vector<Value*> ins{x};
  for (const char* name : {"s", "b", "m", "v"}) ins.push_back(g.add_param(name, Tensor(DType::F32, {3})));
  Value* y = g.add_value("y", {});
  g.add_node("BatchNormalization", ins, {y});
  g.outputs = {y};
  infer_graph_types(g);
  EXPECT_EQ(to_string(y->type), "f32[N,3,4,4]");
  std::mt19937 rng(3);
  BnInputs in = bn_inputs({2, 3, 2, 2}, rng);
  Tensor wrong = test::random_tensor({4}, rng);
  EXPECT_THROW(test::run_op("BatchNormalization", {in.x, wrong, in.b, in.mean, in.var}), Error);
  EXPECT_THROW(test::run_op("BatchNormalization", {in.x, in.scale, in.b, in.mean, in.var}, {}, 3), Error);
}

