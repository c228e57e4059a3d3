// Recipe or plan -> training job -> trained model: what `fcc compile --recipe`, `fcrun RECIPE|PLAN`
// and `fcrun eval` share. Thin orchestration of frontend (import, plan, export), passes (training
// graph) and runtime (trainer); no algorithm lives here.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/allreduce_buckets.h"
#include "passes/pass_manager.h"
#include "runtime/recipe.h"
#include "runtime/trainer.h"

namespace fc::cli {

struct TrainingJob {
  runtime::Recipe recipe;
  ir::Graph train;      // one training step
  ir::Graph inference;  // the model in inference form (evaluation, export)
  runtime::TrainerIO io;
  std::vector<std::string> unused_params;
  // Trained parameters with no dims: often a constant the exporter folded into an initializer
  // (PyTorch 2.x's dynamo export: an attention scale, a mask's fill value), which PyTorch does not train.
  std::vector<std::string> scalar_params;
  // Parameters fed to the same input of several nodes of one op (five LayerNorms' scales): an
  // optimizing exporter merges initializers with equal values (PyTorch 2.x's dynamo export does
  // unless optimize=False), which ties in training what PyTorch trains apart. Each as "name (op x N)".
  std::vector<std::string> shared_params;
  std::vector<std::pair<std::string, std::string>> gradients;  // (parameter, gradient value); recipe jobs only
  passes::BucketPlan buckets;  // the gradient AllReduce buckets and their predicted times; recipe jobs only
  std::string export_source;  // the ONNX model (or plan) the trained model is exported from
  std::string plan_hash;      // empty when compiled in-process
  std::string recipe_text;
  std::vector<std::string> overrides;
};

// Compiles a recipe in-process (what `fcc compile --recipe` writes to a plan).
// The notes a training job's start prints (stderr, rank 0): parameters that do not affect the loss,
// and scalar parameters that are trained (with the recipe key that freezes them).
std::vector<std::string> job_notes(const TrainingJob& job);

TrainingJob job_from_recipe(const std::string& recipe_path, const std::vector<std::string>& overrides,
                            const passes::PassManagerOptions& passes_options = {});
// Loads a plan; `overrides` are applied on top of the recipe stored in it.
TrainingJob job_from_plan(const std::string& plan_path, const std::vector<std::string>& overrides);
void save_job_as_plan(const TrainingJob& job, const std::string& plan_path);

// Trains, prints progress, writes metrics, checkpoints and the trained ONNX model as the recipe says;
// with a trace path, writes Chrome trace events there (runtime/trace.h; rank r > 0: FILE.rank<r>.json).
int run_training(TrainingJob& job, bool resume, int threads_override, const std::string& trace_path = "");
// Runs the recipe's training steps exactly as `fcrun RECIPE` would and writes under dump_dir:
// loss.npy (f32[steps]), grad/<parameter>.npy (gradients of the first step), state/<name>.npy (every
// training-state tensor at the end). For parity tests against PyTorch.
int debug_steps(const std::string& recipe_path, const std::vector<std::string>& overrides,
                const std::string& dump_dir, int threads_override);

// Test loss and accuracy of an ONNX model or a plan's model on the recipe's test set.
runtime::EvalResult evaluate_model(const std::string& model_or_plan, const runtime::Recipe& recipe, int threads);

}  // namespace fc::cli
