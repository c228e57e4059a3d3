// ScatterND against ONNX's definition: the operator spec's worked examples (hand values) and a naive
// scatter written here (in double) over every reduction the op supports (none, add, mul, max, min),
// with duplicate and negative indices, applied in index order. Values are small integers so that
// sums and products are exact in float: every element must then match exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

using Dims = std::vector<int64_t>;

std::vector<double> scatter_nd_reference(const Tensor& data, const Tensor& indices, const Tensor& updates,
                                         const std::string& reduction) {
  const Dims& dd = data.dims();
  const int64_t k = indices.dims().back();
  const int64_t tuples = static_cast<int64_t>(indices.numel()) / k;
  const int64_t slice = static_cast<int64_t>(data.numel()) / numel(Dims(dd.begin(), dd.begin() + k));
  std::vector<double> y(data.data<float>(), data.data<float>() + data.numel());
  const std::map<std::string, std::function<double(double, double)>> combine = {
      {"none", [](double, double u) { return u; }},
      {"add", [](double a, double u) { return a + u; }},
      {"mul", [](double a, double u) { return a * u; }},
      {"max", [](double a, double u) { return std::max(a, u); }},
      {"min", [](double a, double u) { return std::min(a, u); }},
  };
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t base = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t v = indices.data<int64_t>()[t * k + j];
      base = base * dd[j] + (v < 0 ? v + dd[j] : v);
    }
    for (int64_t e = 0; e < slice; ++e)
      y[base * slice + e] = combine.at(reduction)(y[base * slice + e], updates.data<float>()[t * slice + e]);
  }
  return y;
}

Tensor small_integers(const Dims& dims, uint32_t seed) {
  // In [-3, 3]: a product of a few stays exact in float.
  std::mt19937 rng(seed);
  Tensor t(ir::DType::F32, dims);
  for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(std::uniform_int_distribution<int>(-3, 3)(rng));
  return t;
}

TEST(ScatterNDForward, OnnxSpecExamples) {
  // Example 1: data [1..8], indices [[4], [3], [1], [7]], updates [9, 10, 11, 12].
  Tensor y = test::run_op("ScatterND", {Tensor::from_vector<float>({8}, {1, 2, 3, 4, 5, 6, 7, 8}),
                                        Tensor::from_vector<int64_t>({4, 1}, {4, 3, 1, 7}),
                                        Tensor::from_vector<float>({4}, {9, 10, 11, 12})})
                 .outputs[0];
  EXPECT_EQ(test::values<float>(y), (std::vector<float>{1, 11, 3, 10, 9, 6, 7, 12}));
  // Example 2: data [4, 4, 4] of 1..8 patterns, slices 0 and 2 replaced by 5s and 1s patterns.
  const std::vector<float> block = {1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1};
  const std::vector<float> b2 = {8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<float> u0 = {5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8};
  const std::vector<float> u1 = {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4};
  auto cat = [](std::initializer_list<std::vector<float>> parts) {
    std::vector<float> r;
    for (const auto& p : parts) r.insert(r.end(), p.begin(), p.end());
    return r;
  };
  y = test::run_op("ScatterND", {Tensor::from_vector<float>({4, 4, 4}, cat({block, block, b2, b2})),
                                 Tensor::from_vector<int64_t>({2, 1}, {0, 2}),
                                 Tensor::from_vector<float>({2, 4, 4}, cat({u0, u1}))})
          .outputs[0];
  EXPECT_EQ(test::values<float>(y), cat({u0, block, u1, b2}));
  // Reduction add with a duplicate index (spec's scatternd_add): both updates of slice 0 add.
  y = test::run_op("ScatterND", {Tensor::from_vector<float>({4, 4, 4}, cat({block, block, b2, b2})),
                                 Tensor::from_vector<int64_t>({2, 1}, {0, 0}),
                                 Tensor::from_vector<float>({2, 4, 4}, cat({u0, u1}))},
                   {{"reduction", std::string("add")}})
          .outputs[0];
  std::vector<float> added = block;
  for (size_t i = 0; i < added.size(); ++i) added[i] += u0[i] + u1[i];
  EXPECT_EQ(test::values<float>(y), cat({added, block, b2, b2}));
}

struct Case {
  Dims data, indices, updates;
};

TEST(ScatterNDForward, EveryReductionAgainstNaiveScatter) {
  // Index tuples drawn from few values, so duplicates are common and their order matters.
  const std::vector<Case> cases = {
      {{6}, {10, 1}, {10}},
      {{4, 5}, {9, 1}, {9, 5}},
      {{4, 5}, {12, 2}, {12}},
      {{3, 4, 2}, {2, 4, 2}, {2, 4, 2}},
  };
  uint32_t seed = 1;
  for (const char* reduction : {"none", "add", "mul", "max", "min"})
    for (const Case& c : cases) {
      SCOPED_TRACE(::testing::Message() << reduction << " case " << seed);
      const Tensor data = small_integers(c.data, seed++), upd = small_integers(c.updates, seed++);
      Tensor idx(ir::DType::I64, c.indices);
      std::mt19937 rng(seed++);
      const int64_t k = c.indices.back();
      for (size_t i = 0; i < idx.numel(); ++i) {
        const int64_t n = c.data[i % k];
        idx.data<int64_t>()[i] = std::uniform_int_distribution<int64_t>(-n, n - 1)(rng);
      }
      const test::OpRun r = test::run_op("ScatterND", {data, idx, upd}, {{"reduction", std::string(reduction)}});
      expect_values<float>(r.outputs[0], c.data, scatter_nd_reference(data, idx, upd, reduction), 0.0, 0.0);
    }
}

TEST(ScatterNDForward, IntegerDataAndLastWriteWins) {
  // i64 data, three writes to element 1 without a reduction: the last one (in index order) stays.
  const Tensor y = test::run_op("ScatterND", {Tensor::from_vector<int64_t>({3}, {10, 20, 30}),
                                              Tensor::from_vector<int64_t>({3, 1}, {1, -2, 1}),
                                              Tensor::from_vector<int64_t>({3}, {7, 8, 9})})
                       .outputs[0];
  EXPECT_EQ(test::values<int64_t>(y), (std::vector<int64_t>{10, 9, 30}));
  const Tensor m = test::run_op("ScatterND", {Tensor::from_vector<int64_t>({3}, {10, 20, 30}),
                                              Tensor::from_vector<int64_t>({2, 1}, {2, -1}),
                                              Tensor::from_vector<int64_t>({2}, {-2, 3})},
                                {{"reduction", std::string("mul")}})
                       .outputs[0];
  EXPECT_EQ(test::values<int64_t>(m), (std::vector<int64_t>{10, 20, -180}));
}

}  // namespace
