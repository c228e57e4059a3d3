// The optimizer updates against their published definitions, written here in double from the
// kernels' float inputs: torch.optim.SGD (momentum, dampening, Nesterov, weight decay, the first
// step's buffer = d), torch.optim.AdamW (decoupled decay, bias correction), LAMB and LARS as
// ir/ops/optimizer_updates.cpp defines them (norms over the whole tensor, exclude, a zero norm
// giving ratio 1). Inputs: (w, grad, state.., hyper f32[kHyperSize]) per ir/hyperparams.h, its
// derived entries filled by derive_hyperparams as the runtime fills them every step.
// Tolerance: each output is a short float chain; every rounding errs by at most 2^-24 times the
// magnitude of what it rounds, which is bounded by the sum of the absolute values of the terms of the
// formula (`mag`, computed beside the reference). 16 such ulps cover the chain (<= 8 roundings, the
// float-rounded hyper-parameters, the trust ratios' norms); a wrong term is off by far more.
#include <gtest/gtest.h>

#include <cmath>

#include "ir/hyperparams.h"
#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

struct Ref {
  std::vector<double> want, mag;
};

void expect_within(const Tensor& got, const Ref& r, const char* what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(got.numel(), r.want.size());
  for (size_t i = 0; i < r.want.size(); ++i)
    EXPECT_LE(std::abs(double(got.data<float>()[i]) - r.want[i]), 16 * 0x1p-24 * r.mag[i] + 1e-30)
        << "element " << i << ": got " << got.data<float>()[i] << ", want " << r.want[i];
}

struct Hyper {
  float lr = 0.1f, momentum = 0.9f, dampening = 0.1f, weight_decay = 0.01f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float step = 0, trust = 0.001f;
  Tensor tensor() const {
    std::vector<float> h(ir::kHyperSize, 0.0f);
    h[ir::kHyperLr] = lr, h[ir::kHyperMomentum] = momentum, h[ir::kHyperDampening] = dampening;
    h[ir::kHyperWeightDecay] = weight_decay, h[ir::kHyperBeta1] = beta1, h[ir::kHyperBeta2] = beta2;
    h[ir::kHyperEps] = eps, h[ir::kHyperStep] = step, h[ir::kHyperTrustCoefficient] = trust;
    ir::derive_hyperparams(h.data());
    return Tensor::from_vector<float>({ir::kHyperSize}, h);
  }
};

double norm(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return std::sqrt(s);
}

const std::vector<int64_t> kDims = {3, 7, 5};

TEST(OptimizerUpdatesForward, SGDMatchesTorchOptimSGD) {
  const Tensor w = random_f32(kDims, 1, -1, 1), g = random_f32(kDims, 2, -1, 1), buf = random_f32(kDims, 3, -1, 1);
  const auto W = test::values<float>(w), G = test::values<float>(g), B = test::values<float>(buf);
  for (int nesterov : {0, 1})
    for (int decay : {0, 1})
      for (float step : {0.0f, 3.0f})
        for (float momentum : {0.9f, 0.0f}) {
          SCOPED_TRACE(::testing::Message() << "nesterov " << nesterov << " decay " << decay << " step " << step
                                            << " momentum " << momentum);
          Hyper h;
          h.step = step, h.momentum = momentum;
          const double lr = h.lr, wd = decay ? h.weight_decay : 0.0, mom = momentum, damp = h.dampening;
          Ref rw, rb;
          for (size_t i = 0; i < W.size(); ++i) {
            const double d = G[i] + wd * W[i], md = std::abs(G[i]) + std::abs(wd * W[i]);
            double nb = B[i], mb = std::abs(B[i]), dir = d, mdir = md;
            if (mom != 0) {
              nb = step == 0 ? d : mom * B[i] + (1 - damp) * d;
              mb = step == 0 ? md : mom * std::abs(B[i]) + (1 - damp) * md;
              dir = nesterov ? d + mom * nb : nb;
              mdir = nesterov ? md + mom * mb : mb;
            }
            rw.want.push_back(W[i] - lr * dir), rw.mag.push_back(std::abs(W[i]) + lr * mdir);
            rb.want.push_back(nb), rb.mag.push_back(mb);
          }
          const test::OpRun r = test::run_op("fc.SGDUpdate", {w, g, h.tensor(), buf},
                                             {{"nesterov", int64_t{nesterov}}, {"decay", int64_t{decay}}}, 2);
          expect_within(r.outputs[0], rw, "w'");
          expect_within(r.outputs[1], rb, "momentum buffer'");
        }
  // Without a buffer: plain w - lr * (g + wd * w).
  Hyper h;
  Ref rw;
  for (size_t i = 0; i < W.size(); ++i) {
    rw.want.push_back(W[i] - double(h.lr) * (G[i] + double(h.weight_decay) * W[i]));
    rw.mag.push_back(std::abs(W[i]) + h.lr * (std::abs(G[i]) + h.weight_decay * std::abs(W[i])));
  }
  expect_within(test::run_op("fc.SGDUpdate", {w, g, h.tensor()}).outputs[0], rw, "w' without momentum buffer");
}

TEST(OptimizerUpdatesForward, AdamWMatchesTorchOptimAdamW) {
  const Tensor w = random_f32(kDims, 4, -1, 1), g = random_f32(kDims, 5, -1, 1);
  const Tensor m = random_f32(kDims, 6, -0.1f, 0.1f), v = random_f32(kDims, 7, 0.0f, 0.01f);
  const auto W = test::values<float>(w), G = test::values<float>(g), M = test::values<float>(m), V = test::values<float>(v);
  for (int decay : {0, 1})
    for (float step : {0.0f, 9.0f}) {
      SCOPED_TRACE(::testing::Message() << "decay " << decay << " step " << step);
      Hyper h;
      h.step = step, h.lr = 1e-3f, h.weight_decay = 0.1f;
      const double lr = h.lr, wd = decay ? h.weight_decay : 0.0, b1 = h.beta1, b2 = h.beta2, t = step + 1.0;
      const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
      Ref rw, rm, rv;
      for (size_t i = 0; i < W.size(); ++i) {
        const double wdec = W[i] * (1 - lr * wd);
        const double nm = b1 * M[i] + (1 - b1) * G[i], mm = b1 * std::abs(M[i]) + (1 - b1) * std::abs(G[i]);
        const double nv = b2 * V[i] + (1 - b2) * G[i] * G[i];
        const double denom = std::sqrt(nv) / std::sqrt(bc2) + h.eps;
        rw.want.push_back(wdec - lr / bc1 * nm / denom);
        rw.mag.push_back(std::abs(wdec) + lr / bc1 * mm / denom);
        rm.want.push_back(nm), rm.mag.push_back(mm);
        rv.want.push_back(nv), rv.mag.push_back(nv);
      }
      const test::OpRun r = test::run_op("fc.AdamWUpdate", {w, g, m, v, h.tensor()}, {{"decay", int64_t{decay}}}, 3);
      expect_within(r.outputs[0], rw, "w'");
      expect_within(r.outputs[1], rm, "m'");
      expect_within(r.outputs[2], rv, "v'");
    }
}

TEST(OptimizerUpdatesForward, LambMatchesItsDefinition) {
  const Tensor g = random_f32(kDims, 9, -1, 1);
  const Tensor m = random_f32(kDims, 10, -0.1f, 0.1f), v = random_f32(kDims, 11, 0.0f, 0.01f);
  const auto G = test::values<float>(g), M = test::values<float>(m), V = test::values<float>(v);
  for (int exclude : {0, 1})
    for (bool zero_w : {false, true})
      for (float step : {0.0f, 4.0f}) {
        SCOPED_TRACE(::testing::Message() << "exclude " << exclude << " zero w " << zero_w << " step " << step);
        const Tensor w = zero_w ? Tensor(ir::DType::F32, kDims) : random_f32(kDims, 8, -1, 1);
        const auto W = test::values<float>(w);
        Hyper h;
        h.step = step, h.lr = 0.01f, h.weight_decay = 0.05f, h.eps = 1e-6f;
        const double lr = h.lr, wd = exclude ? 0.0 : h.weight_decay, b1 = h.beta1, b2 = h.beta2, t = step + 1.0;
        const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
        Ref rw, rm, rv;
        std::vector<double> rr, mr;
        for (size_t i = 0; i < W.size(); ++i) {
          const double nm = b1 * M[i] + (1 - b1) * G[i], mm = b1 * std::abs(M[i]) + (1 - b1) * std::abs(G[i]);
          const double nv = b2 * V[i] + (1 - b2) * G[i] * G[i];
          const double denom = std::sqrt(nv / bc2) + h.eps;
          rr.push_back(nm / bc1 / denom + wd * W[i]);
          mr.push_back(mm / bc1 / denom + std::abs(wd * W[i]));
          rm.want.push_back(nm), rm.mag.push_back(mm);
          rv.want.push_back(nv), rv.mag.push_back(nv);
        }
        double rn = 0;
        for (double x : rr) rn += x * x;
        const double wn = norm(W), trust = exclude || wn == 0 || rn == 0 ? 1.0 : wn / std::sqrt(rn);
        for (size_t i = 0; i < W.size(); ++i) {
          rw.want.push_back(W[i] - lr * trust * rr[i]);
          rw.mag.push_back(std::abs(W[i]) + lr * trust * mr[i]);
        }
        const test::OpRun r = test::run_op("fc.LambUpdate", {w, g, m, v, h.tensor()}, {{"exclude", int64_t{exclude}}}, 3);
        expect_within(r.outputs[0], rw, "w'");
        expect_within(r.outputs[1], rm, "m'");
        expect_within(r.outputs[2], rv, "v'");
      }
}

TEST(OptimizerUpdatesForward, LarsMatchesItsDefinition) {
  const Tensor g = random_f32(kDims, 13, -1, 1), buf = random_f32(kDims, 14, -0.1f, 0.1f);
  const auto G = test::values<float>(g), B = test::values<float>(buf);
  for (int exclude : {0, 1})
    for (bool zero_w : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "exclude " << exclude << " zero w " << zero_w);
      const Tensor w = zero_w ? Tensor(ir::DType::F32, kDims) : random_f32(kDims, 12, -1, 1);
      const auto W = test::values<float>(w);
      Hyper h;
      h.lr = 0.5f, h.weight_decay = 5e-4f, h.trust = 0.02f;
      const double lr = h.lr, mom = h.momentum, wd = exclude ? 0.0 : h.weight_decay;
      const double wn = norm(W), gn = norm(G);
      const double local = exclude || wn == 0 ? 1.0 : double(h.trust) * wn / (gn + wd * wn);
      Ref rw, rb;
      for (size_t i = 0; i < W.size(); ++i) {
        const double nb = mom * B[i] + lr * local * (G[i] + wd * W[i]);
        const double mb = mom * std::abs(B[i]) + lr * local * (std::abs(G[i]) + wd * std::abs(W[i]));
        rb.want.push_back(nb), rb.mag.push_back(mb);
        rw.want.push_back(W[i] - nb), rw.mag.push_back(std::abs(W[i]) + mb);
      }
      const test::OpRun r = test::run_op("fc.LarsUpdate", {w, g, buf, h.tensor()}, {{"exclude", int64_t{exclude}}}, 2);
      expect_within(r.outputs[0], rw, "w'");
      expect_within(r.outputs[1], rb, "momentum buffer'");
    }
}

}  // namespace
