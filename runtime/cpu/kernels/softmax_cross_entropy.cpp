// CPU kernels for fc.SoftmaxCrossEntropy and its gradient.
// logits: [N, C] f32, labels: [N] i64. Row log-sum-exp in double (max-subtracted) so the loss is at
// least as accurate as PyTorch's float32 log_softmax + nll_loss. Rows whose label is the node's
// ignore_index contribute nothing (their gradient row is zero), as in PyTorch and ONNX.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ir/error.h"
#include "ir/ops/softmax_cross_entropy.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

struct Rows {
  int64_t n, c;
  const float* logits;
  const int64_t* labels;
  int64_t ignore_index;
  int64_t kept;      // rows whose label is not ignore_index
  double divisor;    // what the summed loss is divided by
  bool ignored(int64_t i) const { return labels[i] == ignore_index; }
};

Rows rows_of(const KernelSpec& s, const std::vector<const Tensor*>& in) {
  Rows r{in[0]->dim(0), in[0]->dim(1), in[0]->data<float>(), in[1]->data<int64_t>(),
         s.node.attr_int("ignore_index"), 0, 1.0};
  FC_CHECK(in[1]->dim(0) == r.n, s.node.describe(), ": ", in[1]->dim(0), " labels for ", r.n, " rows of logits");
  for (int64_t i = 0; i < r.n; ++i) {
    if (r.ignored(i)) continue;
    FC_CHECK(r.labels[i] >= 0 && r.labels[i] < r.c, s.node.describe(), ": label ", r.labels[i], " out of range [0, ",
             r.c, ")");
    ++r.kept;
  }
  if (s.node.attr_string("reduction") == "mean") {
    const int64_t count = s.node.attr_int("scale_count");
    // A shard of a global batch divides by the global count, which is only right when no label is
    // ignored: the global number of kept labels is not known here.
    FC_CHECK(count <= 0 || count == r.n || r.kept == r.n, s.node.describe(), ": ", r.n - r.kept,
             " labels equal ignore_index ", r.ignore_index,
             " in a data-parallel shard; ignore_index with a mean over several ranks is not supported");
    // All rows ignored: 0 / 0 = NaN, as PyTorch.
    r.divisor = count > 0 && r.kept == r.n ? double(count) : double(r.kept);
  }
  return r;
}

// log(sum(exp(row - max))) + max
double log_sum_exp(const float* row, int64_t c) {
  float m = row[0];
  for (int64_t j = 1; j < c; ++j) m = std::max(m, row[j]);
  double s = 0;
  for (int64_t j = 0; j < c; ++j) s += std::exp(double(row[j]) - m);
  return std::log(s) + m;
}

void loss(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  Rows r = rows_of(s, in);
  double total = 0;
  for (int64_t i = 0; i < r.n; ++i) {
    if (r.ignored(i)) continue;
    const float* row = r.logits + i * r.c;
    total += log_sum_exp(row, r.c) - row[r.labels[i]];
  }
  out[0].data<float>()[0] = r.n ? static_cast<float>(total / r.divisor) : 0.0f;
}

void grad(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  Rows r = rows_of(s, in);
  const double scale = double(in[2]->data<float>()[0]) / r.divisor;
  float* d = out[0].data<float>();
#pragma omp parallel for if (r.n * r.c > 65536)
  for (int64_t i = 0; i < r.n; ++i) {
    if (r.ignored(i)) {
      std::fill(d + i * r.c, d + (i + 1) * r.c, 0.0f);
      continue;
    }
    const float* row = r.logits + i * r.c;
    const double lse = log_sum_exp(row, r.c);
    for (int64_t j = 0; j < r.c; ++j) {
      double p = std::exp(double(row[j]) - lse) - (j == r.labels[i] ? 1.0 : 0.0);
      d[i * r.c + j] = static_cast<float>(p * scale);
    }
  }
}

}  // namespace

FC_REGISTER_CPU_FN("fc::SoftmaxCrossEntropy", loss);
FC_REGISTER_CPU_FN("fc::SoftmaxCrossEntropyGrad", grad);

}  // namespace fc::runtime::cpu
