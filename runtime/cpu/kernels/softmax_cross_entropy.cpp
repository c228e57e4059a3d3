// CPU kernels for fc.SoftmaxCrossEntropy, fc.SoftmaxCrossEntropyGrad and fc.SoftmaxCrossEntropyAndGrad.
// logits: [..., C] f32, labels: [...] i64, seen as N = numel / C rows of C classes (a language model's
// [batch, T, V] logits are batch * T rows). All three run one JIT-compiled row program
// (ir::softmax_cross_entropy_kernel: max-subtracted log-sum-exp in float, as PyTorch's log_softmax);
// this file checks the labels, works out the divisor and sums the per-row losses in double. Rows
// whose label is the node's ignore_index contribute nothing (their gradient row is zero), as in
// PyTorch and ONNX. A "mean" over part of a global batch (scale_count: a data-parallel shard, a
// micro-batch) divides by the number of kept labels in the whole global batch: each kernel counts
// them over its rank's whole step (runtime/step_labels.h, when the step runs in micro-batches) and
// sums the ranks' counts (runtime/data_parallel.h, as synchronised BatchNorm sums its statistics),
// every rank the same.
#include <algorithm>
#include <vector>

#include "support/error.h"
#include "ir/ops/softmax_cross_entropy.h"
#include "runtime/cpu/fused_jit.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/data_parallel.h"
#include "runtime/step_labels.h"

namespace fc::runtime::cpu {
namespace {

// The labels' facts a step needs: how many rows count, and what the summed loss is divided by.
struct Rows {
  int64_t kept = 0;     // rows whose label is not ignore_index
  double divisor = 1;   // what the summed loss is divided by
};

Rows check_labels(const ir::Node& node, int64_t n, int64_t c, const int64_t* labels) {
  const int64_t ignore = node.attr_int("ignore_index");
  // The program compares labels as floats: exact for classes < 2^24, and a kept label must not round
  // to the ignored one.
  const float ignore_f = static_cast<float>(ignore);
  Rows r;
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] == ignore) continue;
    FC_CHECK(labels[i] >= 0 && labels[i] < c, node.describe(), ": label ", labels[i], " out of range [0, ", c, ")");
    FC_CHECK(static_cast<float>(labels[i]) != ignore_f, node.describe(), ": ignore_index ", ignore,
             " is too close to label ", labels[i], " to tell them apart in float");
    ++r.kept;
  }
  if (node.attr_string("reduction") == "mean") {
    const int64_t count = node.attr_int("scale_count");
    if (count <= 0) {
      r.divisor = double(r.kept);
    } else {
      // This run holds part of a global batch of `count` positions: a data-parallel rank's shard,
      // and/or one micro-batch of a step (gradient accumulation). The kept labels and positions of
      // the rank's whole step (its micro-batches together) are summed over the ranks (every rank
      // runs this node, so every rank joins the sum).
      double totals[2] = {double(r.kept), double(n)};
      if (const StepLabels* step = step_labels()) {
        totals[0] = double(std::count_if(step->data, step->data + step->count,
                                         [ignore](int64_t label) { return label != ignore; }));
        totals[1] = double(step->count);
      }
      if (DataParallel* dp = data_parallel(); dp && dp->size() > 1) dp->sum_doubles(totals, 2);
      // With nothing ignored the divisor is the global batch's positions, as the plan says; with
      // ignored labels the kept ones counted above, which must then have covered the whole batch.
      FC_CHECK(totals[0] == totals[1] || totals[1] == double(count), node.describe(), ": ",
               int64_t(totals[1] - totals[0]), " labels equal ignore_index ", ignore, " in ", int64_t(totals[1]),
               " positions, but the global batch has ", count);
      r.divisor = totals[0] == totals[1] ? double(count) : totals[0];
    }
    // All rows ignored: 0 / 0 = NaN, as PyTorch.
  }
  return r;
}

// Every axis but the last (the classes) is a row.
int64_t rows_of(const std::vector<int64_t>& logits) {
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < logits.size(); ++d) rows *= logits[d];
  return rows;
}

// Rows per thread below which another thread costs more than it saves (elements: rows * classes).
constexpr int64_t kMinShareElements = 65536;

class SoftmaxCrossEntropyKernel : public Kernel {
 public:
  SoftmaxCrossEntropyKernel(const KernelSpec& spec, bool loss, bool grad)
      : node_(spec.node),
        loss_(loss),
        grad_(grad),
        n_(rows_of(spec.inputs.at(0).sizes())),
        c_(spec.inputs.at(0).sizes().back()) {
    FC_CHECK(c_ < (int64_t{1} << 24), node_.describe(), ": ", c_, " classes; at most 2^24 - 1 are supported");
    kernel_ = ir::softmax_cross_entropy_kernel(n_, c_, node_.attr_int("ignore_index"), loss, grad,
                                               node_.attr_float("label_smoothing"));
    fn_ = compile_program(kernel_);
    row_loss_.resize(static_cast<size_t>(n_));
    threads_ = static_cast<int>(std::clamp<int64_t>(n_ * c_ / kMinShareElements, 1, std::max(1, spec.threads)));
  }

  bool overwrites_outputs() const override { return true; }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    FC_CHECK(static_cast<int64_t>(in[1]->numel()) == n_, node_.describe(), ": ", in[1]->numel(), " labels for ", n_,
             " rows of logits");
    const Rows r = check_labels(node_, n_, c_, in[1]->data<int64_t>());
    const float* inputs[3] = {in[0]->data<float>(), reinterpret_cast<const float*>(in[1]->data<int64_t>()),
                              &scale_};
    float* outputs[2] = {};
    int o = 0;
    if (loss_) outputs[o++] = row_loss_.data();
    if (grad_) {
      scale_ = static_cast<float>(double(in[2]->data<float>()[0]) / r.divisor);
      outputs[o++] = out[loss_ ? 1 : 0].data<float>();
    }
#pragma omp parallel for num_threads(threads_) if (threads_ > 1)
    for (int t = 0; t < threads_; ++t)
      run_program(kernel_, fn_, inputs, outputs, n_ * t / threads_, n_ * (t + 1) / threads_);
    if (loss_) {
      double total = 0;
      for (float l : row_loss_) total += l;
      out[0].data<float>()[0] = n_ ? static_cast<float>(total / r.divisor) : 0.0f;
    }
  }

 private:
  const ir::Node& node_;
  const bool loss_, grad_;
  const int64_t n_, c_;
  ir::FusedKernel kernel_;
  codegen::KernelFn fn_ = nullptr;
  std::vector<float> row_loss_;  // the program's per-row losses
  float scale_ = 0;              // the program's table: dloss / divisor
  int threads_ = 1;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("fc::SoftmaxCrossEntropy", [](const KernelSpec& s) {
  return std::make_unique<SoftmaxCrossEntropyKernel>(s, true, false);
});
FC_REGISTER_CPU_KERNEL("fc::SoftmaxCrossEntropyGrad", [](const KernelSpec& s) {
  return std::make_unique<SoftmaxCrossEntropyKernel>(s, false, true);
});
FC_REGISTER_CPU_KERNEL("fc::SoftmaxCrossEntropyAndGrad", [](const KernelSpec& s) {
  return std::make_unique<SoftmaxCrossEntropyKernel>(s, true, true);
});

}  // namespace fc::runtime::cpu
