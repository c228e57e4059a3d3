// Turns an imported inference graph into one training step, as a pipeline of named passes run by
// the pass manager (passes/pass_manager.h; the graph is verified after each; `fcc compile
// --print-after PASS | all`, `--stop-after PASS`):
//   training-form        BatchNormalization -> fc.BatchNormTraining (batch statistics, running-
//                        statistics update as state), Dropout -> fc.DropoutTraining (counter-based RNG
//                        fed by the fc.rng input);
//   attention-fusion     (with `attention`) exported attention subgraphs as fc.Attention
//                        (passes/attention_fusion.h), before autodiff so that their gradient is
//                        fc.AttentionGrad;
//   loss                 softmax cross-entropy over the model output's last axis against int64 labels
//                        (mean over every labelled position of the batch, or over `loss_count` samples'
//                        positions when the batch is part of a larger global batch), or MSE against
//                        float targets; a graph already ending in SoftmaxCrossEntropyLoss uses that loss;
//   autodiff             gradients (passes/autodiff.h) for every trainable float parameter;
//   accumulate           (with `accumulate`) each gradient added to a zero-initialised accumulator
//                        (Graph::accumulations), the sum what the rest reads;
//   optimizer            one update node per parameter (fc.SGDUpdate / fc.AdamWUpdate / fc.LarsUpdate /
//                        fc.LambUpdate, the last two with 1-D parameters excluded from their trust
//                        ratio) reading the fc.hyper input, optimizer state as new zero-initialised
//                        parameters (1-D parameters without weight decay when `decay_1d` is false);
//   allreduce-buckets    gradient AllReduce buckets (passes/allreduce_buckets.h) between gradients
//                        and updates;
//   clip-gradients       (with clip_grad_norm) the global norm of the summed gradients (output
//                        ir::kGradNormName), every gradient scaled by min(1, clip / (norm + 1e-6));
//   step-io              inputs data, labels, fc.hyper, fc.rng; outputs loss, model output (and the
//                        gradient norm); nodes that reach none of them removed;
//   saved-outputs        forward nodes save what their gradient rules offered to read (max pooling's
//                        window choices; saved_outputs.h);
//   elementwise-fusion, update-fusion, loss-fusion   (with `fusion`) elementwise chains; each allreduce
//                        bucket's updates as one kernel; softmax cross-entropy and its gradient as one.
// Every updated parameter is recorded in Graph::state_updates. Options arrive typed and checked: the
// recipe's keys are the CLI's business (cli/training_driver.cpp), and errors here name the graph.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/allreduce_buckets.h"
#include "passes/elementwise_fusion.h"
#include "passes/pass_manager.h"

namespace fc::passes {

enum class LossKind { cross_entropy, mse };
enum class OptimizerKind { sgd, adamw, lars, lamb };

struct TrainingConfig {
  std::string input;              // data input name ("" = the only data input)
  std::string output;             // model output name ("" = the first output)
  LossKind loss = LossKind::cross_entropy;
  OptimizerKind optimizer = OptimizerKind::sgd;
  bool momentum = true;           // SGD keeps a momentum buffer (the momentum value itself is a runtime input)
  bool nesterov = false;
  bool decay_1d = true;           // false: 1-D parameters (biases, normalisation scales) get no weight decay
  float clip_grad_norm = 0;       // > 0: gradients (after the allreduce) clipped to this global L2 norm
  int64_t loss_count = 0;         // > 0: divide the summed loss by this (global batch) instead of the local batch
  bool accumulate = false;        // gradients summed over micro-batches before the allreduce (Graph::accumulations)
  int64_t ignore_index = -100;    // cross-entropy: labels equal to it count nothing (PyTorch's default)
  float label_smoothing = 0.0f;   // cross-entropy: PyTorch's label_smoothing
  std::vector<std::string> frozen;  // parameters that get no gradient and no update
  bool sync_batchnorm = true;     // BatchNorm statistics over the global batch across ranks
  BucketingOptions bucketing;     // gradient AllReduce buckets (the loss is filled in here)
  bool fusion = true;             // the fusion passes: elementwise chains, each bucket's updates, the loss
  bool attention = true;          // attention-fusion: exported attention subgraphs as fc.Attention
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

// The pipeline's passes, in order, for this configuration; what they find out lands in `info`
// (`config` and `info` must outlive the passes).
std::vector<Pass> training_passes(const TrainingConfig& config, TrainingGraphInfo& info);

// Runs training_passes over `g` under the pass manager.
TrainingGraphInfo build_training_graph(ir::Graph& g, const TrainingConfig& config,
                                       const PassManagerOptions& options = {});

}  // namespace fc::passes
