#include "runtime/step_labels.h"

#include "support/error.h"

namespace fc::runtime {
namespace {
// Set and read on the thread that runs the step's kernels (the executor's), never concurrently.
StepLabels current;
bool active = false;
}  // namespace

const StepLabels* step_labels() { return active ? &current : nullptr; }

StepLabelsScope::StepLabelsScope(const ir::Tensor& labels) {
  FC_ASSERT(!active && labels.dtype() == ir::DType::I64);
  current = StepLabels{labels.data<int64_t>(), static_cast<int64_t>(labels.numel())};
  active = true;
}

StepLabelsScope::~StepLabelsScope() {
  active = false;
  current = {};
}

}  // namespace fc::runtime
