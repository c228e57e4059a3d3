// The labels of a whole optimizer step while it runs in micro-batches (gradient accumulation). A
// cross-entropy "mean" with ignored labels divides by the kept labels of the whole global batch,
// which one micro-batch cannot count: its kernel counts them here instead (and sums the ranks').
#pragma once

#include <cstdint>

#include "ir/tensor.h"

namespace fc::runtime {

struct StepLabels {
  const int64_t* data = nullptr;
  int64_t count = 0;  // this rank's labels in the step (every micro-batch's)
};

// Null outside a micro-batched step.
const StepLabels* step_labels();

// Publishes `labels` (i64, this rank's whole step) for as long as it lives; one at a time.
class StepLabelsScope {
 public:
  explicit StepLabelsScope(const ir::Tensor& labels);
  ~StepLabelsScope();
  StepLabelsScope(const StepLabelsScope&) = delete;
  StepLabelsScope& operator=(const StepLabelsScope&) = delete;
};

}  // namespace fc::runtime
