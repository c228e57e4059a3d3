// LayerNormalization against a naive float64 reference written here, with its Mean/InvStdDev
// outputs, axis edge cases, symbolic shape inference and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "op_test_util.h"
#include "ops_math_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Attribute;
using fc::ir::Tensor;

namespace {

using Dims = std::vector<int64_t>;
using Ints = std::vector<int64_t>;

// Reference layer norm over dims [axis, rank): rows x D, with scale/bias broadcast to dims[axis:].
void naive_layer_norm(const Tensor& x, const Tensor& scale, const Tensor* bias, int64_t axis, double eps,
                      std::vector<double>* y, std::vector<double>* mean, std::vector<double>* inv) {
  const Dims norm(x.dims().begin() + axis, x.dims().end());
  const int64_t d = numel(norm), rows = numel(x.dims()) / d;
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (int64_t j = 0; j < d; ++j) m += x.data<float>()[r * d + j];
    m /= d;
    for (int64_t j = 0; j < d; ++j) v += std::pow(x.data<float>()[r * d + j] - m, 2);
    const double is = 1 / std::sqrt(v / d + eps);
    for (int64_t j = 0; j < d; ++j) {
      const Dims idx = unravel(j, norm);
      double s = scale.data<float>()[broadcast_index(idx, scale.dims())];
      double b = bias ? bias->data<float>()[broadcast_index(idx, bias->dims())] : 0.0;
      y->push_back((x.data<float>()[r * d + j] - m) * is * s + b);
    }
    mean->push_back(m);
    inv->push_back(is);
  }
}

TEST(MathLayerNorm, MatchesReferenceWithStatsOutputs) {
  struct Case {
    Dims x, scale, bias;  // empty bias dims with has_bias = false: no B
    int64_t axis;
    bool has_bias;
    float eps;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4}, {4}, {4}, -1, true, 1e-5f},     {{2, 3, 4}, {3, 4}, {3, 4}, 1, true, 1e-5f},
      {{2, 3, 4}, {4}, {1, 4}, -2, true, 1e-3f},  {{2, 3, 4}, {2, 3, 4}, {}, 0, false, 1e-5f},
      {{4, 768}, {768}, {768}, -1, true, 1e-5f},  {{6, 5}, {1}, {}, -1, false, 1e-5f},
  };
  uint32_t seed = 51;
  for (const Case& c : cases) {
    SCOPED_TRACE("axis " + std::to_string(c.axis) + " x " + to_string(ir::TensorType::concrete(ir::DType::F32, c.x)));
    // An offset mean makes the one-pass variance formula lose digits; the two-pass one does not.
    Tensor x = random_f32(c.x, seed++, 100, 102);
    Tensor scale = random_f32(c.scale, seed++, 0.5f, 2);
    Tensor bias = c.has_bias ? random_f32(c.bias, seed++) : Tensor();
    std::vector<double> y, mean, inv;
    const int64_t axis = c.axis < 0 ? c.axis + int64_t(c.x.size()) : c.axis;
    naive_layer_norm(x, scale, c.has_bias ? &bias : nullptr, axis, c.eps, &y, &mean, &inv);
    std::vector<Tensor> ins{x, scale};
    if (c.has_bias) ins.push_back(bias);
    test::OpRun r = test::run_op("LayerNormalization", ins, {{"axis", c.axis}, {"epsilon", c.eps}}, 3, {}, 2);
    Dims stat(c.x.begin(), c.x.begin() + axis);
    stat.resize(c.x.size(), 1);
    expect_values<float>(r.outputs[0], c.x, y, 1e-6, 1e-6);
    expect_values<float>(r.outputs[1], stat, mean, 6e-8);
    expect_values<float>(r.outputs[2], stat, inv, 1e-6);
    EXPECT_EQ(r.inferred[1], ir::TensorType::concrete(ir::DType::F32, stat));
  }
}

TEST(MathLayerNorm, SymbolicShapesAndErrors) {
  auto t = infer_types("LayerNormalization", {f32({N(), K(3), K(4)}), f32({K(4)}), f32({K(4)})}, {}, 3);
  EXPECT_EQ(to_string(t[0]), "f32[N,3,4]");
  EXPECT_EQ(to_string(t[1]), "f32[N,3,1]");
  EXPECT_EQ(to_string(t[2]), "f32[N,3,1]");
  t = infer_types("LayerNormalization", {f32({N(), K(3), K(4)}), f32({K(3), K(4)})}, {{"axis", int64_t{1}}}, 1);
  EXPECT_EQ(to_string(t[0]), "f32[N,3,4]");
  // Scale that does not match the normalised shape, or would grow it.
  EXPECT_THROW(infer_types("LayerNormalization", {f32({N(), K(3), K(4)}), f32({K(3)})}), Error);
  EXPECT_THROW(infer_types("LayerNormalization", {f32({N(), K(4)}), f32({K(2), K(4)})}), Error);
  EXPECT_THROW(infer_types("LayerNormalization", {f32({N(), K(4)}), f32({K(4)})}, {{"axis", int64_t{2}}}), Error);
  EXPECT_THROW(infer_types("LayerNormalization", {f32({N(), K(4)})}), Error);  // Scale is required
}

}  // namespace
