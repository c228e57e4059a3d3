#include "runtime/trainer.h"

#include <chrono>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "support/error.h"
#include "ir/hyperparams.h"
#include "runtime/checkpoint.h"
#include "runtime/data/recipe_data.h"
#include "runtime/data_parallel.h"
#include "runtime/executor.h"
#include "runtime/fault_injection.h"
#include "runtime/step_labels.h"
#include "runtime/trace.h"

namespace fc::runtime {

namespace fs = std::filesystem;

struct Trainer::Impl {
  std::unique_ptr<Executor> exec;
};

Trainer::Trainer(const ir::Graph& train, ir::Graph& inference, TrainerIO io, const Recipe& recipe, Backend& backend)
    : train_(train), inference_(inference), io_(std::move(io)), recipe_(recipe), backend_(backend),
      impl_(std::make_unique<Impl>()) {
  const ir::Value* in = train.value(io_.data_input);
  const bool speaker = !data_parallel() || data_parallel()->rank() == 0;
  const int channels = data::input_channels(in->type);
  // The data must fit the model input (an image folder's samples are known before it is listed).
  auto check_fits = [&](const std::vector<int64_t>& sample, ir::DType dtype) {
    bool fits = in->type.rank() == sample.size() + 1 && in->type.dtype == dtype;
    for (size_t i = 0; fits && i < sample.size(); ++i)
      fits = !in->type.dims[i + 1].is_known() || in->type.dims[i + 1].size == sample[i];
    FC_CHECK(fits, recipe.path, ": ", data::sample_shape_key(recipe), ": ", ir::dtype_name(dtype), " samples of shape [N", [&] {
      std::string s;
      for (int64_t d : sample) s += "," + std::to_string(d);
      return s;
    }(), "] do not fit model input '", in->name, "' of type ", ir::to_string(in->type));
  };
  if (recipe.data_format == "image_folder") check_fits({channels, recipe.image_size, recipe.image_size}, ir::DType::F32);
  train_set_ = data::load_training_set(recipe, channels, speaker);
  test_set_ = data::load_test_set(recipe, channels, speaker);
  check_fits(train_set_.sample_shape(), train_set_.x_dtype());
  if (train_set_.is_tokens()) {
    // Token ids index the model's vocabulary: the classes of its output's last axis.
    const ir::TensorType& out = train.value(io_.model_output)->type;
    FC_CHECK(out.rank() >= 2 && out.dims.back().is_known(), recipe.path, ": [data] format = \"tokens\": model output '",
             io_.model_output, "' of type ", ir::to_string(out), " has no known vocabulary (last axis)");
    data::check_vocabulary(train_set_, out.dims.back().size);
    data::check_vocabulary(test_set_, out.dims.back().size);
  }
  const ir::TensorType& labels = train.value(io_.labels_input)->type;
  data::check_labels_fit(train_set_, labels, recipe.path + ": [data] train_y");
  if (test_set_.size()) data::check_labels_fit(test_set_, labels, recipe.path + ": [data] test_y");
  FC_CHECK(recipe.batch_size <= train_set_.size(), recipe.path, ": [train] batch_size ", recipe.batch_size,
           " is larger than the training set (", train_set_.size(), " samples)");
  const int64_t per_epoch = train_set_.size() / recipe.batch_size;
  total_steps_ = runtime::total_steps(recipe, per_epoch);
  micro_batches_ = runtime::micro_batches(recipe, data_parallel() ? data_parallel()->size() : 1);
  impl_->exec = std::make_unique<Executor>(train, backend);
}

Trainer::~Trainer() = default;

std::map<std::string, ir::Tensor> Trainer::state() const {
  std::map<std::string, ir::Tensor> r;
  for (const auto& [param, next] : train_.state_updates) r[param->name] = impl_->exec->state(param);
  return r;
}

void Trainer::sync_inference_params() {
  for (const auto& [param, next] : train_.state_updates)
    if (const ir::Value* v = inference_.find_value(param->name); v && inference_.is_param(v))
      inference_.set_param(v, impl_->exec->state(param).clone());
}

int64_t score_logits(const ir::Tensor& logits, const int64_t* labels, int64_t ignore_index, double& loss_sum,
                     int64_t& correct) {
  const int64_t c = logits.dims().back();
  const int64_t n = c ? static_cast<int64_t>(logits.numel()) / c : 0;
  const float* p = logits.data<float>();
  int64_t counted = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] == ignore_index) continue;
    FC_CHECK(labels[i] >= 0 && labels[i] < c, "evaluate: label ", labels[i], " out of range [0, ", c, ")");
    ++counted;
    const float* row = p + i * c;
    int64_t best = 0;
    float m = row[0];
    for (int64_t j = 1; j < c; ++j)
      if (row[j] > m) {
        m = row[j];
        best = j;
      }
    double s = 0;
    for (int64_t j = 0; j < c; ++j) s += std::exp(double(row[j]) - m);
    loss_sum += std::log(s) + m - row[labels[i]];
    correct += best == labels[i];
  }
  return counted;
}

void score_regression(const ir::Tensor& outputs, const float* targets, double& loss_sum) {
  const int64_t n = outputs.dim(0);
  const int64_t per_sample = n ? static_cast<int64_t>(outputs.numel()) / n : 0;
  const float* p = outputs.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < per_sample; ++j) {
      const double d = double(p[i * per_sample + j]) - targets[i * per_sample + j];
      s += d * d;
    }
    loss_sum += per_sample ? s / double(per_sample) : 0.0;
  }
}

std::string EvalResult::text(int loss_digits) const {
  char buf[128];
  if (has_perplexity) std::snprintf(buf, sizeof buf, "test_loss %.*f  test_perplexity %.4f", loss_digits, loss, std::exp(loss));
  else if (has_accuracy) std::snprintf(buf, sizeof buf, "test_loss %.*f  test_accuracy %.4f", loss_digits, loss, accuracy);
  else std::snprintf(buf, sizeof buf, "test_loss %.*f", loss_digits, loss);
  return buf;
}

std::string EvalResult::json_fields() const {
  char buf[128];
  if (has_perplexity) std::snprintf(buf, sizeof buf, "\"test_loss\": %.8g, \"test_perplexity\": %.8g", loss, std::exp(loss));
  else if (has_accuracy) std::snprintf(buf, sizeof buf, "\"test_loss\": %.8g, \"test_accuracy\": %.6f", loss, accuracy);
  else std::snprintf(buf, sizeof buf, "\"test_loss\": %.8g", loss);
  return buf;
}

void fill_step_inputs(const Recipe& r, int64_t step, int64_t total_steps, ir::Tensor& hyper, ir::Tensor& rng) {
  if (!hyper.defined()) hyper = ir::Tensor(ir::DType::F32, {ir::kHyperSize});
  if (!rng.defined()) rng = ir::Tensor(ir::DType::I64, {2});
  float* h = hyper.data<float>();
  h[ir::kHyperLr] = static_cast<float>(learning_rate(r, step, total_steps));
  h[ir::kHyperMomentum] = static_cast<float>(r.momentum);
  h[ir::kHyperDampening] = static_cast<float>(r.dampening);
  h[ir::kHyperWeightDecay] = static_cast<float>(r.weight_decay);
  h[ir::kHyperBeta1] = static_cast<float>(r.beta1);
  h[ir::kHyperBeta2] = static_cast<float>(r.beta2);
  h[ir::kHyperEps] = static_cast<float>(r.eps);
  h[ir::kHyperStep] = static_cast<float>(step);
  h[ir::kHyperTrustCoefficient] = static_cast<float>(r.trust_coefficient);
  ir::derive_hyperparams(h);
  rng.data<int64_t>()[0] = static_cast<int64_t>(r.seed);
  rng.data<int64_t>()[1] = step;
}

namespace {

// Rows [first, first + count) of a batch tensor [N, ...], sharing its storage.
ir::Tensor rows(const ir::Tensor& t, int64_t first, int64_t count) {
  std::vector<int64_t> dims = t.dims();
  const size_t per_row = dims[0] ? t.numel() / static_cast<size_t>(dims[0]) : 0;
  dims[0] = count;
  return t.slice_view(static_cast<size_t>(first) * per_row, dims);
}

}  // namespace

std::map<std::string, ir::Tensor> run_training_step(Executor& ex, const TrainerIO& io, const data::Batch& b,
                                                    int64_t micro_batches, const ir::Tensor& hyper, ir::Tensor& rng) {
  const int64_t n = b.x.dim(0);
  FC_CHECK(micro_batches >= 1 && n % micro_batches == 0, "training step: ", n, " rows do not split into ",
           micro_batches, " micro-batches");
  if (micro_batches == 1 && ex.graph().accumulations.empty())
    return ex.run({{io.data_input, b.x}, {io.labels_input, b.y}, {ir::kHyperInputName, hyper}, {ir::kRngInputName, rng}});
  const int64_t m = n / micro_batches, step = rng.data<int64_t>()[1];
  // A cross-entropy mean over kept labels counts those of the whole step, not of one micro-batch.
  std::optional<StepLabelsScope> labels_of_step;
  if (b.y.dtype() == ir::DType::I64) labels_of_step.emplace(b.y);
  double loss = 0;
  std::map<std::string, ir::Tensor> out;
  for (int64_t j = 0; j < micro_batches; ++j) {
    rng.data<int64_t>()[1] = step * micro_batches + j;
    const bool last = j + 1 == micro_batches;
    out = ex.run({{io.data_input, rows(b.x, j * m, m)},
                  {io.labels_input, rows(b.y, j * m, m)},
                  {ir::kHyperInputName, hyper},
                  {ir::kRngInputName, rng}},
                 last ? Executor::Part::whole_step : Executor::Part::micro_batch);
    loss += out.at(io.loss_output).data<float>()[0];
  }
  rng.data<int64_t>()[1] = step;
  out[io.loss_output] = ir::Tensor::scalar<float>(static_cast<float>(loss));
  return out;
}

EvalTotals evaluate_totals(const ir::Graph& inference, const std::string& input, const std::string& output,
                           const data::Dataset& ds, Backend& backend, int64_t batch, int64_t begin, int64_t end,
                           int64_t ignore_index) {
  FC_CHECK(0 <= begin && begin <= end && end <= ds.size(), "evaluate: samples [", begin, ", ", end,
           ") outside a dataset of ", ds.size());
  Executor ex(inference, backend);
  EvalTotals t;
  int64_t correct = 0, counted = 0;
  for (int64_t start = begin; start < end; start += batch) {
    const int64_t n = std::min(batch, end - start);
    ir::Tensor x, labels;
    ds.slice(start, n, x, labels);
    auto out = ex.run({{input, x}});
    // Test-only fault injection (issue 22): evaluation has run a batch, its sums not yet reduced.
    fault_point(FaultPhase::eval);
    const ir::Tensor& y = out.at(output);
    if (labels.dtype() == ir::DType::I64) {
      // Class labels per sample ([N]) or per position ([N, T], a language model's next tokens).
      counted += score_logits(y, labels.data<int64_t>(), ignore_index, t.loss_sum, correct);
    } else {
      score_regression(y, labels.data<float>(), t.loss_sum);
      counted += n;
    }
  }
  t.correct = static_cast<double>(correct);
  t.samples = static_cast<double>(counted);
  return t;
}

EvalResult EvalTotals::result(const data::Dataset& ds) const {
  EvalResult r;
  r.has_perplexity = ds.is_tokens();
  r.has_accuracy = !ds.is_tokens() && ds.y_dtype() == ir::DType::I64;
  r.samples = static_cast<int64_t>(samples);
  r.loss = samples > 0 ? loss_sum / samples : 0;
  r.accuracy = samples > 0 ? correct / samples : 0;
  return r;
}

EvalResult evaluate(const ir::Graph& inference, const std::string& input, const std::string& output,
                    const data::Dataset& ds, Backend& backend, int64_t batch, int64_t ignore_index) {
  return evaluate_totals(inference, input, output, ds, backend, batch, 0, ds.size(), ignore_index).result(ds);
}

EvalResult Trainer::evaluate(const data::Dataset& ds) {
  TraceScope trace("eval", "evaluate");
  sync_inference_params();
  // Each rank scores its contiguous share of the test set; the sums are added across ranks.
  DataParallel* dp = data_parallel();
  const int64_t ranks = dp ? dp->size() : 1, rank = dp ? dp->rank() : 0;
  const int64_t begin = ds.size() * rank / ranks, end = ds.size() * (rank + 1) / ranks;
  EvalTotals t = evaluate_totals(inference_, io_.data_input, io_.model_output, ds, backend_,
                                 // token windows are large samples: the training batch, not 256 of them
                                 ds.is_tokens() ? recipe_.batch_size : std::max<int64_t>(recipe_.batch_size, 256),
                                 begin, end, recipe_.ignore_index);
  if (ranks > 1) {
    double sums[3] = {t.loss_sum, t.correct, t.samples};
    dp->sum_doubles(sums, 3);
    t = {sums[0], sums[1], sums[2]};
  }
  return t.result(ds);
}

namespace {

std::string format_eta(double seconds) {
  char buf[32];
  long s = std::lround(std::max(seconds, 0.0));
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

class MetricsLog {
 public:
  MetricsLog(const std::string& path, bool append) {
    if (path.empty()) return;
    if (auto dir = fs::path(path).parent_path(); !dir.empty()) fs::create_directories(dir);
    f_.open(path, append ? std::ios::app : std::ios::trunc);
    FC_CHECK(f_, path, ": cannot write metrics");
  }
  void write(const std::string& line) {
    if (f_.is_open()) {
      f_ << line << "\n";
      f_.flush();
    }
  }

 private:
  std::ofstream f_;
};

}  // namespace

EvalResult Trainer::train(const TrainOptions& options) {
  const Recipe& r = recipe_;
  int64_t start_step = 0;
  if (options.resume && !r.checkpoint_dir.empty()) {
    // Every rank reads the same files and so makes the same choice; rank 0 alone reports it.
    const bool report = !options.quiet && (!data_parallel() || data_parallel()->rank() == 0);
    ResumePoint at = newest_intact_checkpoint(r.checkpoint_dir);
    for (const std::string& d : at.damaged)
      if (report) std::cerr << "fcrun: warning: " << d << "; skipped\n";
    FC_CHECK(at.checkpoint || at.damaged.empty(), r.checkpoint_dir, ": no intact checkpoint to resume from (",
             at.damaged.size(), " damaged); nothing loaded");
    if (at.checkpoint) {
      const Checkpoint& c = *at.checkpoint;
      FC_CHECK(c.plan_hash == options.plan_hash, at.path, ": belongs to another plan (plan hash ", c.plan_hash,
               ", this run's is ", options.plan_hash, "); resume with the plan that wrote it or use another [checkpoint] dir");
      FC_CHECK(c.seed == r.seed, at.path, ": checkpoint was written with seed ", c.seed, ", the recipe has ", r.seed);
      for (const auto& [param, next] : train_.state_updates) {
        auto it = c.tensors.find(param->name);
        FC_CHECK(it != c.tensors.end(), at.path, ": checkpoint has no tensor '", param->name, "'");
        impl_->exec->set_state(param, it->second);
      }
      start_step = c.step;
      if (report) std::cout << "resumed from " << at.path << " at step " << start_step << "\n";
    }
  }

  DataParallel* dp = data_parallel();
  const int rank = dp ? dp->rank() : 0, world = dp ? dp->size() : 1;
  const bool speaker = rank == 0;  // rank 0 alone prints, writes metrics and checkpoints
  arm_fault_injection(rank);       // test-only (issue 22): FC_FAULT_INJECT, normally unset
  data::BatchLoader loader(train_set_, r.batch_size, r.shuffle, r.seed, rank, world, start_step);
  const int64_t per_epoch = loader.steps_per_epoch();
  const int64_t eval_every = r.eval_every ? *r.eval_every : per_epoch;
  MetricsLog metrics(speaker ? r.output_metrics : std::string(), start_step > 0);
  const bool tty = options.progress_in_place;
  ir::Tensor hyper(ir::DType::F32, {ir::kHyperSize});
  ir::Tensor rng(ir::DType::I64, {2});
  EvalResult last;
  auto t_start = std::chrono::steady_clock::now();
  auto t_window = t_start;
  int64_t window_images = 0;

  for (int64_t step = start_step; step < total_steps_; ++step) {
    set_fault_step(step + 1);
    data::Batch b = [&] {
      TraceScope trace("data", "next batch");
      return loader.next();
    }();
    fill_step_inputs(r, step, total_steps_, hyper, rng);
    const double lr = hyper.data<float>()[ir::kHyperLr];
    auto out = run_training_step(*impl_->exec, io_, b, micro_batches_, hyper, rng);
    // Each rank's loss is its share's sum over the global batch size; the sum is the global mean.
    double global_loss = out.at(io_.loss_output).data<float>()[0];
    if (world > 1) dp->sum_doubles(&global_loss, 1);
    const float loss = static_cast<float>(global_loss);
    FC_CHECK(std::isfinite(loss), "training diverged at step ", step + 1, ": loss is ", loss,
             " (lower [optimizer] lr?)");
    window_images += b.x.dim(0) * world;
    const int64_t done = step + 1;
    const int64_t epoch = step / per_epoch + 1;

    if (done % r.log_every == 0 || done == total_steps_) {
      auto now = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(now - t_window).count();
      const double ips = secs > 0 ? window_images / secs : 0;
      const double elapsed = std::chrono::duration<double>(now - t_start).count();
      const double eta = elapsed / double(done - start_step) * double(total_steps_ - done);
      char line[256];
      std::snprintf(line, sizeof line, "step %lld/%lld  epoch %lld  loss %.4f  lr %.5g  %.0f img/s  ETA %s",
                    (long long)done, (long long)total_steps_, (long long)epoch, loss, lr, ips,
                    format_eta(eta).c_str());
      if (!options.quiet && speaker) {
        if (tty) std::cout << "\r\033[K" << line << std::flush;
        else std::cout << line << std::endl;  // flushed: logs and pipes see progress as it happens
      }
      char json[320];
      // Image folders also report the images skipped so far as unreadable.
      const std::string skipped = train_set_.source
                                      ? ", \"skipped_images\": " + std::to_string(train_set_.source->skipped())
                                      : std::string();
      std::snprintf(json, sizeof json,
                    "{\"step\": %lld, \"epoch\": %lld, \"loss\": %.8g, \"lr\": %.8g, \"images_per_sec\": %.2f%s",
                    (long long)done, (long long)epoch, loss, lr, ips, skipped.c_str());
      std::string record = json;
      // With clipping: the global gradient norm of this step, before clipping (the same on every rank).
      if (auto it = out.find(ir::kGradNormName); it != out.end()) {
        std::snprintf(json, sizeof json, ", \"grad_norm\": %.8g", double(it->second.data<float>()[0]));
        record += json;
      }
      metrics.write(record + "}");
      t_window = now;
      window_images = 0;
    }
    if (test_set_.size() && (done % eval_every == 0 || done == total_steps_)) {
      last = evaluate(test_set_);  // collective: every rank scores its share
      const std::string at = std::to_string(done), ep = std::to_string(epoch);
      if (!options.quiet && speaker)
        std::cout << (tty ? "\r\033[K" : "") << "eval  step " << at << "  epoch " << ep << "  " << last.text() << std::endl;
      if (speaker) metrics.write("{\"step\": " + at + ", \"epoch\": " + ep + ", " + last.json_fields() + "}");
    }
    if (speaker && !r.checkpoint_dir.empty() && r.checkpoint_every_steps > 0 &&
        (done % r.checkpoint_every_steps == 0 || done == total_steps_)) {
      fs::create_directories(r.checkpoint_dir);
      Checkpoint c;
      c.step = done;
      c.seed = r.seed;
      c.plan_hash = options.plan_hash;
      c.tensors = state();
      save_checkpoint_atomic(checkpoint_path(r.checkpoint_dir, done), c);
      prune_checkpoints(r.checkpoint_dir, r.keep);
    }
  }
  if (tty && !options.quiet && speaker) std::cout << "\n";
  sync_inference_params();
  return last;
}

}  // namespace fc::runtime
