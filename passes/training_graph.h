// Turns an imported inference graph into one training step:
//   1. forward in training form: BatchNormalization -> fc.BatchNormTraining (batch statistics,
//      running-statistics update as state), Dropout -> fc.DropoutTraining (counter-based RNG);
//   2. loss over the model output: softmax cross-entropy over its last axis against int64 labels
//      (mean over every labelled position of the batch, or over `loss_count` samples' positions when
//      the batch is a shard of a larger global batch), or
//      MSE against float targets; a graph already ending in SoftmaxCrossEntropyLoss uses that loss;
//   3. gradients (passes/autodiff.h) for every trainable float parameter; with `accumulate`, each
//      added to a zero-initialised accumulator (Graph::accumulations), the sum what the rest reads;
//   4. one optimizer-update node per parameter (fc.SGDUpdate / fc.AdamWUpdate / fc.LarsUpdate /
//      fc.LambUpdate, the last two with 1-D parameters excluded from their trust ratio) reading the
//      runtime hyper-parameter input, with optimizer state as new zero-initialised parameters (1-D
//      parameters without weight decay when `decay_1d` is false).
//   5. gradient AllReduce buckets (passes/allreduce_buckets.h) between gradients and updates, then,
//      with clip_grad_norm, the global norm of the summed gradients (output ir::kGradNormName) and
//      every gradient scaled by min(1, clip / (norm + 1e-6)) (torch.nn.utils.clip_grad_norm_);
//   6. max pooling records its window choices for the backward (passes/pool_argmax.h);
//   7. elementwise fusion (passes/elementwise_fusion.h) over the whole step, then update fusion
//      (passes/update_fusion.h): one kernel for the optimizer updates of each allreduce bucket, then
//      loss fusion (passes/loss_fusion.h): softmax cross-entropy and its gradient as one kernel.
// Every updated parameter is recorded in Graph::state_updates. Graph inputs afterwards:
// data, labels, fc.hyper, fc.rng; outputs: loss, model output (and the gradient norm when clipping).
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/allreduce_buckets.h"
#include "passes/elementwise_fusion.h"

namespace fc::passes {

struct TrainingConfig {
  std::string input;              // data input name ("" = the only data input)
  std::string output;             // model output name ("" = the first output)
  std::string loss = "cross_entropy";  // "cross_entropy" | "mse"
  std::string optimizer = "sgd";  // "sgd" | "adamw" | "lars" | "lamb"
  bool momentum = true;           // SGD keeps a momentum buffer (the momentum value itself is a runtime input)
  bool nesterov = false;
  bool decay_1d = true;
  float clip_grad_norm = 0;       // > 0: gradients (after the allreduce) clipped to this global L2 norm           // false: 1-D parameters (biases, normalisation scales) get no weight decay
  int64_t loss_count = 0;         // > 0: divide the summed loss by this (global batch) instead of the local batch
  bool accumulate = false;        // gradients summed over micro-batches before the allreduce (Graph::accumulations)
  int64_t ignore_index = -100;    // cross-entropy: labels equal to it count nothing (PyTorch's default)
  float label_smoothing = 0.0f;   // cross-entropy: PyTorch's label_smoothing
  std::vector<std::string> frozen;  // parameters that get no gradient and no update
  bool sync_batchnorm = true;     // BatchNorm statistics over the global batch across ranks
  BucketingOptions bucketing;     // gradient AllReduce buckets (the loss is filled in here)
  bool fusion = true;             // fuse elementwise chains, each bucket's updates, the loss (step 7), last
};

struct TrainingGraphInfo {
  std::string data_input, labels_input, model_output, loss_output;
  std::vector<std::string> trainable;       // parameter names, in order of their gradient's completion
  std::vector<std::string> buffers;         // non-trained state (BatchNorm running statistics)
  std::vector<std::string> unused;          // trainable-looking parameters with no path to the loss
  std::vector<std::string> gradient_values; // what each trainable parameter's update reads: its
                                            // gradient summed over ranks (same order)
  BucketPlan buckets;                       // the AllReduce buckets with their predicted times
};

TrainingGraphInfo build_training_graph(ir::Graph& g, const TrainingConfig& config);

}  // namespace fc::passes
