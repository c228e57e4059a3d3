// GatherND against ONNX's definition: the operator spec's worked examples (hand values), and a
// naive gather written here over random data — each output element located by its own
// multi-index: batch coordinates, then the index tuple (negative entries wrapped), then the slice
// coordinates. A gather copies values, so every element must match exactly.
#include <gtest/gtest.h>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

using Dims = std::vector<int64_t>;

// out[o] = data[batch(o), wrap(indices[batch(o), tuple(o), :]), slice(o)] over every output element.
std::vector<double> gather_nd_reference(const Tensor& data, const Tensor& indices, int64_t b, const Dims& out_dims) {
  const Dims& dd = data.dims();
  const Dims& id = indices.dims();
  const int64_t q = static_cast<int64_t>(id.size()), k = id.back();
  const std::vector<int64_t> ids = test::values<int64_t>(indices);
  std::vector<double> r;
  for (int64_t o = 0; o < numel(out_dims); ++o) {
    const Dims oi = unravel(o, out_dims);
    // Where this element's index tuple starts in `indices` (its leading q - 1 coordinates).
    int64_t tuple = 0;
    for (int64_t d = 0; d < q - 1; ++d) tuple = tuple * id[d] + oi[d];
    Dims di(oi.begin(), oi.begin() + b);
    for (int64_t j = 0; j < k; ++j) {
      const int64_t v = ids[tuple * k + j], n = dd[b + j];
      di.push_back(v < 0 ? v + n : v);
    }
    di.insert(di.end(), oi.begin() + (q - 1), oi.end());
    int64_t flat = 0;
    for (size_t d = 0; d < dd.size(); ++d) flat = flat * dd[d] + di[d];
    r.push_back(data.data<float>()[flat]);
  }
  return r;
}

Tensor random_indices(const Dims& dims, const Dims& bounds, uint32_t seed) {
  // Entry j of each tuple in [-bounds[j], bounds[j]): negative ones count from the end.
  std::mt19937 rng(seed);
  Tensor t(ir::DType::I64, dims);
  const int64_t k = dims.back();
  for (size_t i = 0; i < t.numel(); ++i) {
    const int64_t n = bounds[i % k];
    t.data<int64_t>()[i] = std::uniform_int_distribution<int64_t>(-n, n - 1)(rng);
  }
  return t;
}

TEST(GatherNDForward, OnnxSpecExamples) {
  const Tensor d2 = Tensor::from_vector<int64_t>({2, 2}, {0, 1, 2, 3});
  const Tensor d3 = Tensor::from_vector<int64_t>({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto gather = [](const Tensor& data, const Tensor& idx, int64_t b) {
    return test::run_op("GatherND", {data, idx}, {{"batch_dims", b}}).outputs[0];
  };
  Tensor y = gather(d2, Tensor::from_vector<int64_t>({2, 2}, {0, 0, 1, 1}), 0);
  EXPECT_EQ(y.dims(), (Dims{2}));
  EXPECT_EQ(test::values<int64_t>(y), (std::vector<int64_t>{0, 3}));
  y = gather(d2, Tensor::from_vector<int64_t>({2, 1}, {1, 0}), 0);
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_EQ(test::values<int64_t>(y), (std::vector<int64_t>{2, 3, 0, 1}));
  y = gather(d3, Tensor::from_vector<int64_t>({2, 2}, {0, 1, 1, 0}), 0);
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_EQ(test::values<int64_t>(y), (std::vector<int64_t>{2, 3, 4, 5}));
  y = gather(d3, Tensor::from_vector<int64_t>({2, 1, 2}, {0, 1, 1, 0}), 0);
  EXPECT_EQ(y.dims(), (Dims{2, 1, 2}));
  EXPECT_EQ(test::values<int64_t>(y), (std::vector<int64_t>{2, 3, 4, 5}));
  // batch_dims = 1: batch 0 takes its row 1, batch 1 its row 0.
  y = gather(d3, Tensor::from_vector<int64_t>({2, 1}, {1, 0}), 1);
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_EQ(test::values<int64_t>(y), (std::vector<int64_t>{2, 3, 4, 5}));
  // Negative indices count from the end: (-1, -2) is (1, 0).
  y = gather(d2, Tensor::from_vector<int64_t>({1, 2}, {-1, -2}), 0);
  EXPECT_EQ(test::values<int64_t>(y), (std::vector<int64_t>{2}));
}

struct Case {
  Dims data, indices;
  int64_t batch_dims;
  Dims out;
};

TEST(GatherNDForward, RandomAgainstNaiveGather) {
  const std::vector<Case> cases = {
      {{5, 4, 3}, {6, 1}, 0, {6, 4, 3}},          // whole [4, 3] slices
      {{5, 4, 3}, {2, 3, 2}, 0, {2, 3, 3}},       // rows
      {{5, 4, 3}, {7, 3}, 0, {7}},                // single elements
      {{3, 4, 5}, {3, 2, 1}, 1, {3, 2, 5}},       // batch_dims 1
      {{3, 4, 5, 2}, {3, 6, 2}, 1, {3, 6, 2}},    // batch_dims 1, two indexed dims
      {{2, 3, 4, 5}, {2, 3, 4, 1}, 2, {2, 3, 4, 5}},  // batch_dims 2
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "case " << seed);
    const Tensor data = random_f32(c.data, seed++);
    const int64_t k = c.indices.back();
    const Tensor idx = random_indices(c.indices, Dims(c.data.begin() + c.batch_dims, c.data.begin() + c.batch_dims + k),
                                      seed++);
    const test::OpRun r = test::run_op("GatherND", {data, idx}, {{"batch_dims", c.batch_dims}});
    expect_values<float>(r.outputs[0], c.out, gather_nd_reference(data, idx, c.batch_dims, c.out), 0.0, 0.0);
    EXPECT_EQ(r.inferred[0], ir::TensorType::concrete(ir::DType::F32, c.out));
  }
}

TEST(GatherNDForward, OutOfRangeIndexIsAnError) {
  const Tensor data = random_f32({3, 2}, 5);
  EXPECT_ANY_THROW(test::run_op("GatherND", {data, Tensor::from_vector<int64_t>({1, 1}, {3})}));
  EXPECT_ANY_THROW(test::run_op("GatherND", {data, Tensor::from_vector<int64_t>({1, 1}, {-4})}));
}

}  // namespace
