// Gemm and MatMul on the CPU backend (oneDNN matmul) against naive float64 loops: every
// transA/transB combination, alpha/beta, C as scalar/[N]/[M,1]/[M,N]/absent; numpy MatMul with 1-D
// operands and broadcast batch axes; weights as parameters and as plain inputs.
#include <gtest/gtest.h>

#include "ir/shape_util.h"
#include "op_test_util.h"
#include "ops_dnnl_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::ir;

namespace {

using V = std::vector<int64_t>;

// Y[M, N] = alpha * A'[M, K] B'[K, N] + beta * C (broadcast)
std::vector<double> gemm_ref(const Tensor& a, const Tensor& b, const Tensor* c, bool ta, bool tb, double alpha,
                             double beta, int64_t m, int64_t k, int64_t n) {
  std::vector<double> y(m * n);
  V cd = c ? c->dims() : V{};
  cd.insert(cd.begin(), 2 - cd.size(), 1);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p)
        acc += test::at(a, ta ? p * m + i : i * k + p) * test::at(b, tb ? j * k + p : p * n + j);
      y[i * n + j] = alpha * acc;
      if (c) y[i * n + j] += beta * test::at(*c, (cd[0] == 1 ? 0 : i) * cd[1] + (cd[1] == 1 ? 0 : j));
    }
  return y;
}

void check_gemm(int64_t m, int64_t k, int64_t n, bool ta, bool tb, float alpha, float beta, const V* c_dims,
                bool params) {
  std::string c_name = "none";
  if (c_dims) c_name = to_string(TensorType::concrete(DType::F32, *c_dims));
  SCOPED_TRACE(testing::Message() << "M=" << m << " K=" << k << " N=" << n << " transA=" << ta << " transB=" << tb
                                  << " alpha=" << alpha << " beta=" << beta << " C=" << c_name
                                  << (params ? " (B, C parameters)" : ""));
  std::mt19937 rng(42);
  Tensor a = test::random_tensor(ta ? V{k, m} : V{m, k}, rng);
  Tensor b = test::random_tensor(tb ? V{n, k} : V{k, n}, rng);
  std::vector<Tensor> ins{a, b};
  if (c_dims) ins.push_back(test::random_tensor(*c_dims, rng));
  std::map<std::string, Attribute> attrs{{"transA", int64_t{ta}}, {"transB", int64_t{tb}}, {"alpha", alpha},
                                         {"beta", beta}};
  test::OpRun r = test::run_op("Gemm", ins, attrs, 1, {false, params, params});
  test::expect_close(r.outputs[0], {m, n}, gemm_ref(a, b, c_dims ? &ins[2] : nullptr, ta, tb, alpha, beta, m, k, n));
}

// numpy matmul: A [..., M, K] (or [K]) x B [..., K, N] (or [K]).
std::vector<double> matmul_ref(const Tensor& a, const Tensor& b, V& out_dims) {
  V ad = a.dims(), bd = b.dims();
  const bool av = ad.size() == 1, bv = bd.size() == 1;
  if (av) ad.insert(ad.begin(), 1);
  if (bv) bd.push_back(1);
  const int64_t m = ad[ad.size() - 2], k = ad.back(), n = bd.back();
  V ab(ad.begin(), ad.end() - 2), bb(bd.begin(), bd.end() - 2);
  const size_t r = std::max(ab.size(), bb.size());
  ab.insert(ab.begin(), r - ab.size(), 1);
  bb.insert(bb.begin(), r - bb.size(), 1);
  V batch(r);
  for (size_t i = 0; i < r; ++i) batch[i] = std::max(ab[i], bb[i]);
  const int64_t nb = product(batch);
  std::vector<double> y;
  for (int64_t bi = 0; bi < nb; ++bi) {
    // Unravel the batch index, then ravel it into each operand with broadcast axes pinned to 0.
    int64_t rem = bi, ao = 0, bo = 0, as = 1, bs = 1;
    for (size_t i = r; i-- > 0;) {
      const int64_t idx = rem % batch[i];
      rem /= batch[i];
      ao += (ab[i] == 1 ? 0 : idx) * as;
      bo += (bb[i] == 1 ? 0 : idx) * bs;
      as *= ab[i];
      bs *= bb[i];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p)
          acc += test::at(a, ao * m * k + i * k + p) * test::at(b, bo * k * n + p * n + j);
        y.push_back(acc);
      }
  }
  out_dims = batch;
  if (!av) out_dims.push_back(m);
  if (!bv) out_dims.push_back(n);
  return y;
}

}  // namespace

TEST(DnnlGemm, AllTransposesAlphaBetaAndCShapes) {
  const int64_t m = 5, k = 7, n = 3;
  const std::vector<V> c_shapes{V{}, V{n}, V{1, n}, V{m, 1}, V{m, n}};
  for (bool params : {false, true})
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        check_gemm(m, k, n, ta, tb, 1.0f, 1.0f, nullptr, params);
        for (const V& c : c_shapes) check_gemm(m, k, n, ta, tb, 0.5f, -2.0f, &c, params);
      }
}

TEST(DnnlGemm, LargerShapesUseBlockedWeights) {
  const V c{48};
  for (bool params : {false, true})
    for (int tb = 0; tb < 2; ++tb) check_gemm(64, 128, 48, false, tb, 1.0f, 1.0f, &c, params);
  check_gemm(33, 65, 17, true, true, 1.5f, 0.25f, nullptr, true);
}

TEST(DnnlGemm, BetaZeroIgnoresC) {
  const V c{5, 3};
  check_gemm(5, 4, 3, false, false, 2.0f, 0.0f, &c, false);
}

TEST(DnnlGemm, ShapeFunctionKeepsSymbolicBatchAndChecksK) {
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::known(8)}));
  g.inputs = {x};
  Value* w = g.add_param("w", Tensor(DType::F32, {10, 8}));
  Value* c = g.add_param("c", Tensor(DType::F32, {10}));
  Value* y = g.add_value("y", {});
  g.add_node("Gemm", {x, w, c}, {y}, {{"transB", int64_t{1}}}, "fc1");
  g.outputs = {y};
  infer_graph_types(g);
  EXPECT_EQ(to_string(y->type), "f32[N,10]");
  std::mt19937 rng(1);
  try {
    test::run_op("Gemm", {test::random_tensor({2, 3}, rng), test::random_tensor({4, 5}, rng)});
    ADD_FAILURE() << "expected an inner-dimension error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test_Gemm"), std::string::npos) << e.what();
  }
  EXPECT_THROW(test::run_op("Gemm", {test::random_tensor({2, 3}, rng), test::random_tensor({3, 4}, rng),
                                     test::random_tensor({3, 4}, rng)}),
               Error);
}

TEST(DnnlMatMul, NumpySemantics) {
  const std::vector<std::pair<V, V>> cases{
      {{7}, {7, 4}},             // [K] x [K, N] -> [N]
      {{5, 7}, {7}},             // [M, K] x [K] -> [M]
      {{7}, {7}},                // [K] x [K] -> []
      {{5, 7}, {7, 4}},          // plain 2-D
      {{3, 5, 7}, {7, 4}},       // [B, M, K] x [K, N]: batch folds into M
      {{3, 5, 7}, {3, 7, 4}},    // equal batches
      {{2, 1, 5, 7}, {3, 7, 4}}, // broadcast -> [2, 3, 5, 4]
      {{5, 7}, {2, 7, 4}},       // A broadcast over B's batch
      {{2, 3, 5, 7}, {1, 7, 4}}, // B with a size-1 batch axis
      {{64, 96}, {96, 80}},      // large enough for blocked weights
  };
  for (bool params : {false, true})
    for (const auto& [ad, bd] : cases) {
      SCOPED_TRACE(to_string(TensorType::concrete(DType::F32, ad)) + " x " +
                   to_string(TensorType::concrete(DType::F32, bd)) + (params ? " (B parameter)" : ""));
      std::mt19937 rng(11);
      Tensor a = test::random_tensor(ad, rng), b = test::random_tensor(bd, rng);
      V dims;
      std::vector<double> want = matmul_ref(a, b, dims);
      test::OpRun r = test::run_op("MatMul", {a, b}, {}, 1, {false, params});
      test::expect_close(r.outputs[0], dims, want);
      EXPECT_EQ(to_string(r.inferred[0]), to_string(TensorType::concrete(DType::F32, dims)));
    }
}

TEST(DnnlMatMul, ShapeFunctionKeepsSymbolicBatch) {
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::known(6), Dim::known(8)}));
  g.inputs = {x};
  Value* w = g.add_param("w", Tensor(DType::F32, {8, 2}));
  Value* y = g.add_value("y", {});
  g.add_node("MatMul", {x, w}, {y});
  g.outputs = {y};
  infer_graph_types(g);
  EXPECT_EQ(to_string(y->type), "f32[N,6,2]");
  std::mt19937 rng(2);
  EXPECT_THROW(test::run_op("MatMul", {test::random_tensor({2, 3}, rng), test::random_tensor({4, 5}, rng)}), Error);
  EXPECT_THROW(test::run_op("MatMul", {test::random_tensor({2, 2, 3}, rng), test::random_tensor({3, 3, 5}, rng)}),
               Error);
}

TEST(DnnlGemm, ParallelFillOfLargeC) {
  std::mt19937 rng(4);
  const int64_t m = 300, k = 20, n = 250;
  Tensor a = test::random_tensor({m, k}, rng), b = test::random_tensor({k, n}, rng);
  for (const V& cd : {V{m, n}, V{m, 1}}) {
    Tensor c = test::random_tensor(cd, rng);
    test::OpRun r = test::run_op("Gemm", {a, b, c}, {{"beta", 0.5f}}, 1, {false, true, false}, /*threads=*/2);
    test::expect_close(r.outputs[0], {m, n}, gemm_ref(a, b, &c, false, false, 1.0, 0.5, m, k, n));
  }
}
