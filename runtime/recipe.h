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

  // [data]
  std::string data_format = "idx";  // "idx" | "npy"
  std::string train_x, train_y, test_x, test_y;
  bool shuffle = true;
  Normalize normalize;

  // [train]
  int64_t batch_size = 64;  // global batch
  int64_t epochs = 1;
  std::optional<int64_t> steps;  // wins over epochs
  uint64_t seed = 0;
  std::optional<int64_t> eval_every;  // steps; default: once per epoch
  int64_t log_every = 50;

  // [optimizer]
  std::string optimizer = "sgd";  // "sgd" | "adamw"
  double lr = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double dampening = 0.0;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
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

  // [checkpoint]
  std::string checkpoint_dir;  // empty: no checkpoints
  int64_t checkpoint_every_steps = 0;
  int keep = 3;

  // [output]
  std::string output_model;    // trained ONNX path
  std::string output_metrics;  // JSONL path

  // [distributed]
  std::string allreduce = "auto";
  std::string bucket_mb = "auto";
  std::string interconnect = "shared_memory";
  double interconnect_alpha_us = 0, interconnect_bandwidth_gbps = 0;  // when given as a table
  bool sync_batchnorm = true;
};

// Parses and validates a recipe. `overrides` are "section.key=value" strings (value in TOML syntax;
// a bare word is taken as a string). Checks that referenced files exist.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {});

// The learning rate at `step` (0-based) of `total_steps`, including warm-up and lr scaling.
double learning_rate(const Recipe& r, int64_t step, int64_t total_steps);

}  // namespace fc::runtime
