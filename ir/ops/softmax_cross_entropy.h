// fc.SoftmaxCrossEntropy, its gradient, and both as one node (ir/ops/softmax_cross_entropy.cpp):
// the shared constant read by the ONNX importer, and the scalar program all three kernels run.
#pragma once

#include <cstdint>
#include <limits>

#include "ir/fused_kernel.h"

namespace fc::ir {

// The `ignore_index` value meaning "no label is ignored" (ONNX: attribute absent).
inline constexpr int64_t kNoIgnoreIndex = std::numeric_limits<int64_t>::min();

// The row kernel (ir/fused_kernel.h) of softmax cross-entropy over logits [rows, classes] (the node's
// logits of any rank flattened to rows of its last axis), with label smoothing eps (PyTorch's: the
// target is (1 - eps) * onehot + eps / classes):
//   input 0  logits f32 [rows, classes]
//   input 1  labels i64 [rows, 1] (load_i64: exact for classes < 2^24)
//   input 2  (grad only) table [1]: dloss / divisor, the gradient's scale
//   output   (loss)  per-row loss f32 [rows, 1]: log(sum exp(x - max)) - (x[label] - max), 0 for a row whose
//                    label is ignore_index; the node's kernel sums them (in double) and divides. With
//                    eps > 0: log(sum) - (1 - eps) * (x[label] - max) - eps / classes * sum(x - max)
//   output   (grad)  dlogits f32 [rows, classes] = (exp(x - max) / sum - target) * scale, 0 on ignored rows
// One pass over the row per reduction (max, sum of exp, the label's logit), then the gradient:
// every framework computes the loss and its gradient from the same softmax; with both outputs the
// logits are read once per pass for both.
// eps = 0 builds the program without smoothing terms (the same program, bit for bit, as before
// smoothing existed).
FusedKernel softmax_cross_entropy_kernel(int64_t rows, int64_t classes, int64_t ignore_index, bool loss, bool grad,
                                         float label_smoothing = 0.0f);

}  // namespace fc::ir
