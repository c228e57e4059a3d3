// Gemm's and MatMul's backward through autodiff and the CPU kernels, against naive float64 loops:
// transposes, alpha/beta, C broadcast, matmul batch broadcasting and 1-D operands.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ops_dnnl_test_util.h"
#include "vjp_test_util.h"

using namespace fc;
using namespace fc::ir;

using fc::test::Vjp;
using fc::test::vjp;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

// Numpy matmul gradients: a, b promoted to [.., M, K] / [.., K, N] with batch axes broadcast.
void matmul_grad_ref(const Tensor& a, const Tensor& b, const Tensor& dy, std::vector<double>& da,
                     std::vector<double>& db) {
  Ints ad = a.dims(), bd = b.dims();
  if (ad.size() == 1) ad.insert(ad.begin(), 1);
  if (bd.size() == 1) bd.push_back(1);
  const size_t r = std::max(ad.size(), bd.size());
  ad.insert(ad.begin(), r - ad.size(), 1);
  bd.insert(bd.begin(), r - bd.size(), 1);
  const int64_t m = ad[r - 2], k = ad[r - 1], n = bd[r - 1];
  Ints batch(r - 2);
  for (size_t i = 0; i + 2 < r; ++i) batch[i] = std::max(ad[i], bd[i]);
  int64_t total = 1;
  for (int64_t s : batch) total *= s;
  da.assign(a.numel(), 0.0);
  db.assign(b.numel(), 0.0);
  // Row-major batch strides of each operand; 0 along its broadcast (size-1) axes.
  Ints a_str(r - 2), b_str(r - 2);
  for (int64_t i = int64_t(r) - 3, sa = 1, sb = 1; i >= 0; --i) {
    a_str[i] = ad[i] == 1 ? 0 : sa;
    b_str[i] = bd[i] == 1 ? 0 : sb;
    sa *= ad[i];
    sb *= bd[i];
  }
  for (int64_t t = 0; t < total; ++t) {
    int64_t ai = 0, bi = 0, rest = t;
    for (int64_t i = int64_t(r) - 3; i >= 0; --i) {
      const int64_t idx = rest % batch[i];
      rest /= batch[i];
      ai += idx * a_str[i];
      bi += idx * b_str[i];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const double g = test::at(dy, (t * m + i) * n + j);
        for (int64_t q = 0; q < k; ++q) {
          da[(ai * m + i) * k + q] += g * test::at(b, (bi * k + q) * n + j);
          db[(bi * k + q) * n + j] += g * test::at(a, (ai * m + i) * k + q);
        }
      }
  }
}

TEST(DnnlMatMulGrad, BroadcastBatchesAndVectorsMatchReference) {
  const std::vector<std::pair<Ints, Ints>> shapes = {
      {{3, 4}, {4, 5}},       {{2, 3, 4}, {4, 5}},  {{2, 1, 3, 4}, {3, 4, 5}}, {{3, 4}, {2, 4, 5}},
      {{5, 3, 4}, {5, 4, 2}}, {{4}, {2, 4, 3}},     {{2, 3, 4}, {4}},          {{4}, {4}},
      {{2, 2, 3, 4}, {4, 3}},
  };
  for (const auto& [as, bs] : shapes) {
    SCOPED_TRACE(::testing::PrintToString(as) + " x " + ::testing::PrintToString(bs));
    std::mt19937 rng(8);
    Tensor a = test::random_tensor(as, rng), b = test::random_tensor(bs, rng);
    Vjp v = vjp("MatMul", {a, b}, {}, {0, 1});
    std::vector<double> da, db;
    matmul_grad_ref(a, b, v.dy, da, db);
    test::expect_close(v.grads[0], as, da, 1e-5);
    test::expect_close(v.grads[1], bs, db, 1e-5);
  }
}

TEST(DnnlGemmGrad, TransposesAlphaBetaAndCBroadcastMatchReference) {
  struct GemmCase {
    Ints c;  // shape of C (empty vector with has_c = false: no C)
    bool has_c;
    int64_t ta, tb;
    float alpha, beta;
  };
  const int64_t m = 3, k = 5, n = 4;
  for (const GemmCase& gc : std::vector<GemmCase>{{{m, n}, true, 0, 0, 1.0f, 1.0f},
                                                   {{1, n}, true, 1, 1, 0.7f, 1.3f},
                                                   {{m, 1}, true, 1, 0, 1.0f, -2.0f},
                                                   {{}, true, 0, 1, 2.0f, 0.5f},
                                                   {{}, false, 1, 1, 1.5f, 1.0f}}) {
    SCOPED_TRACE("transA " + std::to_string(gc.ta) + " transB " + std::to_string(gc.tb) + " C rank " +
                 std::to_string(gc.c.size()));
    std::mt19937 rng(9);
    Tensor a = test::random_tensor(gc.ta ? Ints{k, m} : Ints{m, k}, rng);
    Tensor b = test::random_tensor(gc.tb ? Ints{n, k} : Ints{k, n}, rng);
    Tensor c = gc.has_c ? test::random_tensor(gc.c, rng) : Tensor();
    Attrs attrs{{"transA", gc.ta}, {"transB", gc.tb}, {"alpha", gc.alpha}, {"beta", gc.beta}};
    Vjp v = vjp("Gemm", {a, b, c}, attrs, gc.has_c ? std::vector<int>{0, 1, 2} : std::vector<int>{0, 1});
    std::vector<double> da(a.numel()), db(b.numel()), dc(gc.has_c ? c.numel() : 0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const double g = test::at(v.dy, i * n + j);
        for (int64_t q = 0; q < k; ++q) {
          const int64_t ai = gc.ta ? q * m + i : i * k + q, bi = gc.tb ? j * k + q : q * n + j;
          da[ai] += gc.alpha * g * test::at(b, bi);
          db[bi] += gc.alpha * g * test::at(a, ai);
        }
        if (gc.has_c) {
          const int64_t ci = gc.c.empty() ? 0 : (gc.c[0] == 1 ? 0 : i) * gc.c[1] + (gc.c[1] == 1 ? 0 : j);
          dc[ci] += gc.beta * g;
        }
      }
    test::expect_close(v.grads[0], a.dims(), da, 1e-5);
    test::expect_close(v.grads[1], b.dims(), db, 1e-5);
    if (gc.has_c) test::expect_close(v.grads[2], c.dims(), dc, 1e-5);
  }
}

}  // namespace
