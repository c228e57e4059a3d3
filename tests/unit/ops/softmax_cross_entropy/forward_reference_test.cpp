// fc.SoftmaxCrossEntropy and fc.SoftmaxCrossEntropyAndGrad against PyTorch's F.cross_entropy written
// here in double: per kept row, loss = -(1 - eps) log p[label] - eps / C sum_c log p_c; "mean" divides
// the sum by the kept rows (or by scale_count, the global batch, when nothing is ignored), "sum" by 1;
// ignored rows count nothing; the gradient is (softmax - ((1 - eps) onehot + eps / C)) * dloss / D,
// zero on ignored rows. [N, V] and [N, T, V] logits.
// Tolerances (u = 2^-24), from float bounds on the kernel's row program: a row's loss,
// log(sum of C exponentials) - (x[label] - max) (- eps/C sum (x - max)), is off by at most
// (C + 4) u (1 + |log sum| + |x[label] - max| + eps/C sum |x - max|); the mean of those adds one
// rounding. A gradient element p - t is off by (C + 6) u (p + t), times |dloss / D|.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ir/ops/softmax_cross_entropy.h"
#include "op_test_util.h"
#include "ops_math_test_util.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

constexpr double kU = 0x1p-24;

struct Setting {
  std::string reduction = "mean";
  int64_t ignore_index = ir::kNoIgnoreIndex, scale_count = 0;
  float label_smoothing = 0;
  std::map<std::string, ir::Attribute> attrs() const {
    return {{"reduction", reduction}, {"ignore_index", ignore_index}, {"scale_count", scale_count},
            {"label_smoothing", label_smoothing}};
  }
};

void check(const std::vector<int64_t>& dims, const std::vector<int64_t>& labels, const Setting& s, float dloss,
           uint32_t seed, int threads = 1) {
  SCOPED_TRACE(::testing::Message() << s.reduction << " ignore " << s.ignore_index << " eps " << s.label_smoothing
                                    << " scale_count " << s.scale_count << " rank " << dims.size());
  const int64_t c = dims.back(), n = numel(dims) / c;
  ASSERT_EQ(int64_t(labels.size()), n);
  const Tensor x = random_f32(dims, seed, -4, 4);
  const Tensor y = Tensor::from_vector<int64_t>(std::vector<int64_t>(dims.begin(), dims.end() - 1), labels);
  const double eps = s.label_smoothing;
  double total = 0, total_err = 0;
  int64_t kept = 0;
  std::vector<double> p(numel(dims)), target(numel(dims), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = x.data<float>() + i * c;
    double mx = -std::numeric_limits<double>::infinity(), sum = 0, spread = 0;
    for (int64_t k = 0; k < c; ++k) mx = std::max(mx, double(row[k]));
    for (int64_t k = 0; k < c; ++k) sum += std::exp(row[k] - mx), spread += std::abs(row[k] - mx);
    for (int64_t k = 0; k < c; ++k) p[i * c + k] = std::exp(row[k] - mx) / sum;
    if (labels[i] == s.ignore_index) continue;
    ++kept;
    const double lse = mx + std::log(sum);
    double loss = -(1 - eps) * (row[labels[i]] - lse);
    for (int64_t k = 0; k < c; ++k) loss -= eps / double(c) * (row[k] - lse);
    total += loss;
    total_err += (c + 4) * kU * (1 + std::log(sum) + std::abs(row[labels[i]] - mx) + eps / double(c) * spread);
    for (int64_t k = 0; k < c; ++k) target[i * c + k] = (k == labels[i]) * (1 - eps) + eps / double(c);
  }
  double divisor = 1;
  if (s.reduction == "mean") divisor = s.scale_count > 0 && kept == n ? double(s.scale_count) : double(kept);
  const double want_loss = total / divisor;
  const double loss_tol = total_err / divisor + kU * std::abs(want_loss);
  std::vector<double> want_grad(p.size()), grad_tol(p.size());
  const double g = double(dloss) / divisor;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < c; ++k) {
      const size_t at = size_t(i * c + k);
      const bool ignored = labels[i] == s.ignore_index;
      want_grad[at] = ignored ? 0.0 : (p[at] - target[at]) * g;
      grad_tol[at] = (c + 6) * kU * (p[at] + target[at]) * std::abs(g);
    }

  const test::OpRun l = test::run_op("fc.SoftmaxCrossEntropy", {x, y}, s.attrs(), 1, {}, threads);
  const test::OpRun lg = test::run_op("fc.SoftmaxCrossEntropyAndGrad", {x, y, Tensor::scalar<float>(dloss)},
                                      s.attrs(), 2, {}, threads);
  for (const Tensor* loss : {&l.outputs[0], &lg.outputs[0]}) {
    ASSERT_EQ(loss->numel(), 1u);
    EXPECT_LE(std::abs(loss->data<float>()[0] - want_loss), loss_tol) << "loss " << loss->data<float>()[0] << " want " << want_loss;
  }
  const Tensor& d = lg.outputs[1];
  ASSERT_EQ(d.dims(), dims);
  int64_t bad = 0;
  for (size_t i = 0; i < want_grad.size(); ++i)
    if (!(std::abs(d.data<float>()[i] - want_grad[i]) <= grad_tol[i])) {
      if (++bad <= 5) ADD_FAILURE() << "dlogits[" << i << "] = " << d.data<float>()[i] << ", want " << want_grad[i];
    }
  EXPECT_EQ(bad, 0);
}

TEST(SoftmaxCrossEntropyForward, ClassifierRowsMeanAndSum) {
  const std::vector<int64_t> labels = {0, 9, 3, 3, 7, 1};
  check({6, 10}, labels, {}, 1.0f, 1);
  Setting sum;
  sum.reduction = "sum";
  check({6, 10}, labels, sum, 0.5f, 2);
}

TEST(SoftmaxCrossEntropyForward, SequenceLogitsWithIgnoreIndexAndSmoothing) {
  // [N, T, V] = [2, 5, 33], -100 marking padding positions (PyTorch's default ignore_index).
  const std::vector<int64_t> labels = {4, 32, -100, 0, 17, 5, 5, -100, -100, 31};
  Setting s;
  s.ignore_index = -100;
  check({2, 5, 33}, labels, s, 1.0f, 3);
  s.label_smoothing = 0.1f;
  check({2, 5, 33}, labels, s, 2.0f, 4);
  s.reduction = "sum";
  check({2, 5, 33}, labels, s, 1.0f, 5);
  // An ignore_index that is also a valid class: rows with label 5 count nothing.
  Setting five;
  five.ignore_index = 5;
  five.label_smoothing = 0.2f;
  check({2, 5, 33}, {4, 32, 1, 0, 17, 5, 5, 2, 3, 31}, five, 1.0f, 6);
}

TEST(SoftmaxCrossEntropyForward, ScaleCountDividesByTheGlobalBatch) {
  // This run holds 8 of a global batch of 32 positions: the mean divides by 32.
  Setting s;
  s.scale_count = 32;
  check({8, 12}, {0, 1, 2, 3, 4, 5, 6, 7}, s, 1.0f, 7);
  // With ignored labels (and the whole batch here, scale_count = rows) the kept labels divide.
  s.scale_count = 8;
  s.ignore_index = -1;
  check({8, 12}, {0, -1, 2, 3, -1, 5, 6, 7}, s, 1.0f, 8);
}

TEST(SoftmaxCrossEntropyForward, LargeVocabularyOnTwoThreads) {
  std::vector<int64_t> labels(64);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = int64_t(i * 97 % 2048);
  Setting s;
  s.label_smoothing = 0.05f;
  check({4, 16, 2048}, labels, s, 1.0f, 9, 2);
}

TEST(SoftmaxCrossEntropyForward, EveryLabelIgnoredGivesNaNMeanAsPyTorch) {
  Setting s;
  s.ignore_index = -100;
  const test::OpRun r = test::run_op("fc.SoftmaxCrossEntropy",
                                     {random_f32({2, 4}, 10), Tensor::from_vector<int64_t>({2}, {-100, -100})}, s.attrs());
  EXPECT_TRUE(std::isnan(r.outputs[0].data<float>()[0]));
}

}  // namespace
