// The training loop of one rank: feeds batches from a background loader into the training-step
// graph, fills the hyper-parameter input from the learning-rate schedule every step, evaluates on
// the test set with the inference graph, logs progress and metrics, writes and resumes checkpoints.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ir/graph.h"
#include "runtime/backend.h"
#include "runtime/data/dataset.h"
#include "runtime/recipe.h"

namespace fc::runtime {

// Names of the training graph's inputs and outputs (see passes/training_graph.h).
struct TrainerIO {
  std::string data_input, labels_input, loss_output, model_output;
};

struct EvalResult {
  double loss = 0;
  double accuracy = 0;        // top-1, for class labels
  bool has_accuracy = true;   // false for regression targets (loss = mean squared error) and tokens
  bool has_perplexity = false;  // token data: exp(loss), the language-model figure
  int64_t samples = 0;
  // "test_loss 0.1234  test_accuracy 0.9000" (no accuracy for regression; "test_perplexity 12.34"
  // instead for token data), and the same as JSON fields ("\"test_loss\": .., \"test_accuracy\": ..").
  std::string text(int loss_digits = 4) const;
  std::string json_fields() const;
};

struct TrainOptions {
  bool resume = false;
  // What checkpoints are tied to: a resumed checkpoint must carry the same (runtime/checkpoint.h).
  std::string plan_hash;
  bool quiet = false;
  // Progress lines rewritten in place (\r, erase line) rather than one per line: stdout is a terminal.
  bool progress_in_place = false;
};

class Trainer {
 public:
  // `train` is the training-step graph; `inference` the model in inference form (for evaluation and
  // export), with parameters of the same names.
  Trainer(const ir::Graph& train, ir::Graph& inference, TrainerIO io, const Recipe& recipe, Backend& backend);
  ~Trainer();

  // Trains for the recipe's steps; returns the last evaluation.
  EvalResult train(const TrainOptions& options);
  // Evaluates the inference graph with the current weights on a dataset (test loss, top-1 accuracy).
  // With several data-parallel ranks this is collective: each scores its share and the sums are
  // reduced, so every rank returns the whole set's result.
  EvalResult evaluate(const data::Dataset& ds);
  // Current value of every training-state tensor (weights, optimizer state, BN statistics).
  std::map<std::string, ir::Tensor> state() const;
  int64_t total_steps() const { return total_steps_; }
  const data::Dataset& training_set() const { return train_set_; }

 private:
  void sync_inference_params();

  const ir::Graph& train_;
  ir::Graph& inference_;
  TrainerIO io_;
  const Recipe& recipe_;
  Backend& backend_;
  data::Dataset train_set_, test_set_;
  int64_t total_steps_ = 0;
  int64_t micro_batches_ = 1;  // per step and rank ([train] micro_batch_size)
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The per-step runtime inputs of a training graph: fc.hyper (learning rate from the schedule,
// optimizer constants, step counter) and fc.rng (seed, step). Allocates them when undefined.
void fill_step_inputs(const Recipe& r, int64_t step, int64_t total_steps, ir::Tensor& hyper, ir::Tensor& rng);

class Executor;

// One optimizer step of a training graph on this rank's rows of the global batch. With gradient
// accumulation, `micro_batches` runs over consecutive blocks of rows: all but the last
// Executor::Part::micro_batch, each with a dropout stream of its own (rng step = step x
// micro_batches + j, so one micro-batch draws as a step did before); else one whole-step run.
// Returns the last run's outputs, its loss replaced by the sum of every micro-batch's.
std::map<std::string, ir::Tensor> run_training_step(Executor& ex, const TrainerIO& io, const data::Batch& b,
                                                    int64_t micro_batches, const ir::Tensor& hyper, ir::Tensor& rng);

// Sums of an evaluation over some samples, which ranks add up before dividing.
struct EvalTotals {
  double loss_sum = 0, correct = 0, samples = 0;
  EvalResult result(const data::Dataset& ds) const;  // what the dataset's kind reports
};

// Runs an inference graph over samples [begin, end) of a dataset in batches: summed cross-entropy
// of `output` against the labels and correct top-1 predictions over every labelled position (labels
// equal to `ignore_index` do not count), or, for float targets, summed per-sample mean squared error.
// `samples` counts the positions scored (the samples, for [N] labels or targets).
EvalTotals evaluate_totals(const ir::Graph& inference, const std::string& input, const std::string& output,
                           const data::Dataset& ds, Backend& backend, int64_t batch, int64_t begin, int64_t end,
                           int64_t ignore_index = -100);

// The same over the whole dataset: mean cross-entropy and top-1 accuracy (or mean squared error).
EvalResult evaluate(const ir::Graph& inference, const std::string& input, const std::string& output,
                    const data::Dataset& ds, Backend& backend, int64_t batch, int64_t ignore_index = -100);

// Evaluates logits [..., C] against one label per row of the last axis (labels [...]): summed
// cross-entropy and number of correct top-1 predictions over the rows whose label is not
// `ignore_index`; returns how many rows counted. Throws fc::Error for any other label outside [0, C).
int64_t score_logits(const ir::Tensor& logits, const int64_t* labels, int64_t ignore_index, double& loss_sum,
                     int64_t& correct);
// Evaluates outputs [N, ...] against float targets of the same shape: summed per-sample mean squared error.
void score_regression(const ir::Tensor& outputs, const float* targets, double& loss_sum);

}  // namespace fc::runtime
