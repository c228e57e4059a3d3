// Shared helpers for the oneDNN-backed op tests: seeded random tensors, and comparison of a kernel's
// f32 output against a float64 reference computed by a naive loop in the test.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ir/tensor.h"

namespace fc::test {

inline ir::Tensor random_tensor(const std::vector<int64_t>& dims, std::mt19937& rng, float lo = -1.0f,
                                float hi = 1.0f) {
  ir::Tensor t(ir::DType::F32, dims);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* p = t.data<float>();
  for (size_t i = 0; i < t.numel(); ++i) p[i] = dist(rng);
  return t;
}

// Element i of a tensor, widened for the reference computations.
inline double at(const ir::Tensor& t, int64_t i) { return static_cast<double>(t.data<float>()[i]); }

// Checks shape, then ||got - want|| <= tol * ||want|| (and every element finite).
inline void expect_close(const ir::Tensor& got, const std::vector<int64_t>& want_dims, const std::vector<double>& want,
                         double tol = 1e-5) {
  ASSERT_EQ(got.dims(), want_dims);
  ASSERT_EQ(got.numel(), want.size());
  double diff2 = 0, norm2 = 0, worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got.data<float>()[i];
    ASSERT_TRUE(std::isfinite(g)) << "element " << i << " is " << g;
    const double d = g - want[i];
    diff2 += d * d;
    norm2 += want[i] * want[i];
    if (std::abs(d) > worst) worst = std::abs(d), worst_i = i;
  }
  EXPECT_LE(std::sqrt(diff2), tol * std::max(std::sqrt(norm2), 1e-12))
      << "worst element " << worst_i << ": got " << got.data<float>()[worst_i] << ", want " << want[worst_i];
}

}  // namespace fc::test
