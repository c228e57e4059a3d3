// Shared constants of fc.SoftmaxCrossEntropy (ir/ops/softmax_cross_entropy.cpp), read by the ONNX
// importer that normalises SoftmaxCrossEntropyLoss into it and by its kernels.
#pragma once

#include <cstdint>
#include <limits>

namespace fc::ir {

// The `ignore_index` value meaning "no label is ignored" (ONNX: attribute absent).
inline constexpr int64_t kNoIgnoreIndex = std::numeric_limits<int64_t>::min();

}  // namespace fc::ir
