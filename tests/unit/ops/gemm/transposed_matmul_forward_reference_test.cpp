// fc.TransposedMatMul(A, B) {trans_a, trans_b} = MatMul(A', B') (X' = X with its last two axes
// swapped when trans_x) against a naive float64 product written here, every flag combination,
// 2-D and batched operands with numpy-broadcast batch axes.
// Tolerance: an element is a K-term float dot product, off by at most (K + 2) 2^-24 sum |a b| in any
// summation order.
#include <gtest/gtest.h>

#include <cmath>

#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

using Dims = std::vector<int64_t>;

// Element (batch index idx, i, j) of op(X) for X stored with `dims`, transposed when `t`.
double at(const Tensor& x, bool t, const Dims& batch_idx, int64_t i, int64_t j) {
  const Dims& d = x.dims();
  Dims idx = batch_idx;
  idx.push_back(t ? j : i);
  idx.push_back(t ? i : j);
  // broadcast_index right-aligns idx against d and reads size-1 axes at 0.
  return x.data<float>()[broadcast_index(idx, d)];
}

void check(Dims a_batch, Dims b_batch, Dims out_batch, int64_t m, int64_t k, int64_t n, bool ta, bool tb, uint32_t seed) {
  SCOPED_TRACE(::testing::Message() << "trans_a " << ta << " trans_b " << tb << " batch rank " << out_batch.size());
  Dims ad = a_batch, bd = b_batch;
  const Dims a_mat = ta ? Dims{k, m} : Dims{m, k}, b_mat = tb ? Dims{n, k} : Dims{k, n};
  ad.insert(ad.end(), a_mat.begin(), a_mat.end());
  bd.insert(bd.end(), b_mat.begin(), b_mat.end());
  const Tensor a = random_f32(ad, seed), b = random_f32(bd, seed + 1);
  const test::OpRun r = test::run_op("fc.TransposedMatMul", {a, b}, {{"trans_a", int64_t{ta}}, {"trans_b", int64_t{tb}}},
                                     1, {}, 2);
  Dims od = out_batch;
  od.insert(od.end(), {m, n});
  ASSERT_EQ(r.outputs[0].dims(), od);
  EXPECT_EQ(r.inferred[0], ir::TensorType::concrete(ir::DType::F32, od));
  for (int64_t o = 0; o < numel(od); ++o) {
    const Dims oi = unravel(o, od);
    const Dims bi(oi.begin(), oi.end() - 2);
    const int64_t i = oi[oi.size() - 2], j = oi.back();
    double acc = 0, mag = 0;
    for (int64_t p = 0; p < k; ++p) {
      const double v = at(a, ta, bi, i, p) * at(b, tb, bi, p, j);
      acc += v, mag += std::abs(v);
    }
    EXPECT_LE(std::abs(r.outputs[0].data<float>()[o] - acc), (k + 2) * 0x1p-24 * mag) << "element " << o;
  }
}

TEST(TransposedMatMulForward, EveryFlagCombination) {
  uint32_t seed = 1;
  for (int ta : {0, 1})
    for (int tb : {0, 1}) {
      check({}, {}, {}, 5, 7, 3, ta, tb, seed += 2);                    // 2-D
      check({3}, {3}, {3}, 4, 9, 6, ta, tb, seed += 2);                 // batched
      check({2, 3}, {3}, {2, 3}, 4, 5, 2, ta, tb, seed += 2);           // B's batch broadcast over A's
      check({2, 1}, {1, 3}, {2, 3}, 3, 4, 5, ta, tb, seed += 2);        // both broadcast
      check({4}, {}, {4}, 33, 70, 40, ta, tb, seed += 2);               // a batched A times a 2-D B, larger
    }
}

}  // namespace
