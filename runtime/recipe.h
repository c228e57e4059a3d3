// Training recipes: TOML files (toml++) describing model, data, batch, optimizer, schedule,
// runtime, checkpoint and output. Key names are a user contract (see README "Recipe format").
// Relative paths are resolved against the recipe file's folder. `--set section.key=value`
// overrides are applied before validation. Every error is one line naming the file, the line and
// the key: "train.toml:7: [optimizer] lr: expected a number, got string".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fc::runtime {

struct Normalize {
  std::vector<float> mean;  // one value (all channels) or one per channel; empty = none
  std::vector<float> std;
};

struct Recipe {
  std::string path;  // the recipe file itself

  // [model]
  std::string model_path;    // ONNX file
  std::string model_input;   // graph input fed with data (default: the only non-initializer input)
  std::string model_output;  // default: first output
  std::string loss = "cross_entropy";  // "cross_entropy" | "mse"
  int64_t ignore_index = -100;         // cross-entropy: labels equal to it count nothing (PyTorch's default)
  double label_smoothing = 0.0;        // cross-entropy: PyTorch's label_smoothing, in [0, 1]
  std::vector<std::string> frozen;     // parameters (initializer names) kept as they are: no gradient, no update

  // [data]
  std::string data_format = "idx";  // "idx" | "npy" | "tokens" | "image_folder"
  std::string train_x, train_y, test_x, test_y;
  // format "tokens" (runtime/data/tokens.h): flat token-id files, the raw files' element type, and
  // the window length (model input [batch, block_size]; labels the next token of each position).
  std::string train_tokens, test_tokens;
  std::string token_dtype = "uint16";  // "uint8" | "uint16" | "int32"
  int64_t block_size = 0;
  bool shuffle = true;
  Normalize normalize;
  // image_folder (runtime/data/image_folder.h): class sub-folders, the model's input size, the
  // training augmentation ("imagenet" | "none"), the share of the short side the evaluation (and
  // augment "none") transform keeps (timm's crop_pct) and the decoding threads of each rank.
  std::string train_dir, test_dir;
  int64_t image_size = 0;
  std::string augment = "none";
  double eval_crop_fraction = 0.875;
  int loader_threads = 2;

  // [train]
  int64_t batch_size = 64;  // global batch
  int64_t epochs = 1;
  std::optional<int64_t> steps;  // wins over epochs
  uint64_t seed = 0;
  std::optional<int64_t> eval_every;  // steps; default: once per epoch
  int64_t log_every = 50;
  // Gradient accumulation: each rank runs its share of the global batch in micro-batches of this
  // many samples and reduces the summed gradients once per step (unset: one run per step).
  std::optional<int64_t> micro_batch_size;

  // [optimizer]
  std::string optimizer = "sgd";  // "sgd" | "adamw" | "lars" | "lamb"
  double lr = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool weight_decay_skip_1d = false;
  double clip_grad_norm = 0;  // > 0: clip the summed gradients to this global L2 norm  // no weight decay for 1-D parameters (biases, normalisation scales)
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double trust_coefficient = 0.001;  // LARS's eta (You et al. 2017)
  std::optional<int64_t> scale_lr_with_batch;  // lr is given for this batch; scaled linearly to batch_size

  // [schedule]
  std::string schedule = "constant";  // "constant" | "step" | "multistep" | "poly" | "cosine"
  int64_t warmup_steps = 0;
  int64_t step_size = 0;
  std::vector<int64_t> milestones;
  double gamma = 0.1;
  double power = 1.0;
  double min_lr = 0.0;  // cosine floor

  // [runtime]
  int threads = 0;  // 0: the cores this rank may use
  // "fp32" | "bf16": bf16 multiplies the operands of convolutions and matrix products in bf16 (AMX
  // or AVX512-BF16; elsewhere fp32 with a note), everything else stays fp32 (runtime/cpu/precision.h).
  std::string precision = "fp32";
  // "cpu" | "cuda": where the plan runs (runtime/cuda/cuda_driver.h checks a GPU is there).
  std::string device = "cpu";

  // [compile]
  bool fusion = true;  // fuse elementwise chains into LLVM-compiled kernels (passes/elementwise_fusion.h)
  bool attention = true;  // fuse exported attention subgraphs into fc.Attention (passes/attention_fusion.h)

  // [checkpoint]
  std::string checkpoint_dir;  // empty: no checkpoints
  int64_t checkpoint_every_steps = 0;
  int keep = 3;

  // [output]
  std::string output_model;    // trained ONNX path
  std::string output_metrics;  // JSONL path

  // [distributed]
  std::string allreduce = "auto";
  std::string bucket_mb = "auto";  // "auto" or the number as written ("25", "0.5")
  std::string interconnect = "shared_memory";  // a preset name, or "custom" when given as a table
  double interconnect_alpha_us = 0, interconnect_bandwidth_gbps = 0;  // when given as a table
  bool sync_batchnorm = true;
  // What the bucketing cost model plans for: the rank count (0: the launcher's, else 2), ranks
  // per host (0: all on one host for "shared_memory", one per host otherwise), and the sustained
  // FLOP/s of one rank's backward (this machine's CPU: ~30 GFLOP/s per core, bench/RESULTS.md).
  int64_t planned_ranks = 0;
  int64_t ranks_per_host = 0;
  double device_gflops = 30;
  // A rank silent (no heartbeat) for this long ends the job, naming it (distrib/heartbeat.h).
  double stall_timeout_s = 10;
};

// Parses and validates a recipe. `overrides` are "section.key=value" strings (value in TOML syntax;
// text that does not parse as a TOML value is taken as a string: `--set data.train_x=a.gz`). A
// deeper key reaches into an inline table: "data.normalize.mean=0.5". Overrides are applied to the
// file's table in order before validation; relative paths in an override resolve against the
// working directory (the user typed them), those in the file against the recipe's folder.
// Checks that the model and data files exist. Keys that belong to another optimizer or schedule
// than the one named (momentum with adamw, gamma with cosine) are validated and ignored, so that
// `--set schedule.name=...` can switch without deleting keys.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from recipe text (as stored in a plan); `path` names it in messages and anchors
// relative paths. Data files must exist; the model file need not (the plan carries the model).
Recipe parse_recipe_text(const std::string& text, const std::string& path,
                         const std::vector<std::string>& overrides = {});

// The learning rate at `step` (0-based) of `total_steps`, including warm-up and lr scaling:
//   base = lr * batch_size / scale_lr_with_batch        (lr alone when scale_lr_with_batch is unset)
//   constant:  base
//   step:      base * gamma^floor(step / step_size)
//   multistep: base * gamma^(number of milestones m with m <= step)
//   poly:      base * (1 - step / total_steps)^power                      (FireCaffe; 0 at the end)
//   cosine:    min_lr + (base - min_lr) * (1 + cos(pi * step / total_steps)) / 2
// (step is clamped to total_steps for poly and cosine). Linear warm-up multiplies, it does not
// replace: for step < warmup_steps the value above is scaled by (step + 1) / warmup_steps, and
// the schedule itself counts from step 0 of training (PyTorch: LambdaLR warm-up factor times the
// schedule, not SequentialLR). The first step thus trains with lr / warmup_steps, and step
// warmup_steps - 1 with the full schedule value.
double learning_rate(const Recipe& r, int64_t step, int64_t total_steps);

// The run's length: [train] steps, else epochs x steps_per_epoch (overflow-checked: an error naming
// [train] epochs).
int64_t total_steps(const Recipe& r, int64_t steps_per_epoch);

// The micro-batches each of `ranks` runs per step: its share of the global batch divided by
// [train] micro_batch_size (1 when unset). An error naming the key when that share is not a multiple.
int64_t micro_batches(const Recipe& r, int ranks);

}  // namespace fc::runtime
