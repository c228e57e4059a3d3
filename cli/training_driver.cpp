#include "cli/training_driver.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <filesystem>
#include <iostream>
#include <map>
#include <tuple>
#include <sstream>

#include "cli/bucketing_model.h"
#include "cli/cli_common.h"
#include "cli/launch.h"
#include "cli/training_config.h"
#include "distrib/heartbeat.h"
#include "distrib/communicator.h"
#include "ir/content_hash.h"
#include "ir/text_format.h"
#include "runtime/data_parallel.h"
#include "runtime/trace.h"
#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "frontend/plan_io.h"
#include "support/error.h"
#include "passes/inference_form.h"
#include "passes/training_graph.h"
#include "ir/hyperparams.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/cpu/fused_jit.h"
#include "runtime/cpu/precision.h"
#include "runtime/cuda/cuda_driver.h"
#include "runtime/executor.h"
#include "runtime/data/image_folder.h"
#include "runtime/data/recipe_data.h"
#include "runtime/npy.h"

namespace fc::cli {

namespace {

// Float parameters read at the same input index by several nodes of the same op, as
// "name (op x N)" by name (TrainingJob::shared_params keeps those that are trained).
std::map<std::string, std::string> params_shared_by_one_op(const ir::Graph& g) {
  std::map<std::tuple<std::string, std::string, size_t>, int> uses;
  for (const auto& n : g.nodes())
    for (size_t i = 0; i < n->inputs.size(); ++i)
      if (const ir::Value* v = n->inputs[i]; v && g.is_param(v) && v->type.dtype == ir::DType::F32)
        ++uses[{v->name, n->op, i}];
  std::map<std::string, std::string> shared;
  for (const auto& [key, count] : uses)
    if (count > 1) {
      const auto& [name, op, input] = key;
      shared[name] = name + " (" + op + " x " + std::to_string(count) + ")";
    }
  return shared;
}

}  // namespace

TrainingJob job_from_recipe(const std::string& recipe_path, const std::vector<std::string>& overrides,
                            const passes::PassManagerOptions& passes_options) {
  TrainingJob job;
  job.recipe = runtime::load_recipe(recipe_path, overrides);
  job.recipe_text = read_file(recipe_path);
  job.overrides = overrides;
  job.inference = frontend::import_onnx(job.recipe.model_path);
  passes::to_inference_form(job.inference);
  job.train = frontend::import_onnx(job.recipe.model_path);
  check_model_keys(job.recipe, job.train);
  const std::map<std::string, std::string> shared = params_shared_by_one_op(job.train);
  passes::TrainingGraphInfo info = passes::build_training_graph(job.train, training_config(job.recipe), passes_options);
  for (const std::string& p : info.trainable)
    if (auto it = shared.find(p); it != shared.end()) job.shared_params.push_back(it->second);
  job.io = {info.data_input, info.labels_input, info.loss_output, info.model_output};
  job.unused_params = info.unused;
  job.buckets = info.buckets;
  for (size_t i = 0; i < info.trainable.size(); ++i) {
    job.gradients.emplace_back(info.trainable[i], info.gradient_values[i]);
    if (job.train.value(info.trainable[i])->type.rank() == 0) job.scalar_params.push_back(info.trainable[i]);
  }
  job.export_source = job.recipe.model_path;
  return job;
}

std::vector<std::string> job_notes(const TrainingJob& job) {
  std::vector<std::string> notes;
  for (const std::string& u : job.unused_params)
    notes.push_back("note: parameter '" + u + "' does not affect the loss and is not trained");
  if (!job.scalar_params.empty()) {
    std::string names, quoted;
    for (const std::string& p : job.scalar_params) {
      names += (names.empty() ? "'" : ", '") + p + "'";
      quoted += (quoted.empty() ? "\"" : ", \"") + p + "\"";
    }
    notes.push_back("note: scalar parameter(s) " + names + " are trained; if the exporter folded constants into them "
                    "(PyTorch 2.x's dynamo export unless optimize=False), keep them: [model] frozen = [" + quoted + "]");
  }
  if (!job.shared_params.empty()) {
    std::string names;
    for (const std::string& p : job.shared_params) names += (names.empty() ? "" : ", ") + p;
    notes.push_back("note: parameters shared by several nodes of one op are trained as one tensor: " + names +
                    "; if an optimizing exporter merged equal initializers (PyTorch 2.x's dynamo export unless "
                    "optimize=False), PyTorch trains them apart");
  }
  return notes;
}

TrainingJob job_from_plan(const std::string& plan_path, const std::vector<std::string>& overrides) {
  frontend::Plan plan = frontend::load_plan(plan_path);
  TrainingJob job;
  job.overrides = plan.meta.overrides;
  job.overrides.insert(job.overrides.end(), overrides.begin(), overrides.end());
  job.recipe = runtime::parse_recipe_text(plan.meta.recipe_text, plan.meta.recipe_path, job.overrides);
  job.recipe_text = plan.meta.recipe_text;
  job.train = std::move(plan.train);
  job.inference = std::move(plan.inference);
  passes::to_inference_form(job.inference);
  job.io = {plan.meta.data_input, plan.meta.labels_input, plan.meta.loss_output, plan.meta.model_output};
  job.export_source = plan_path;
  job.plan_hash = plan.hash;
  return job;
}

void save_job_as_plan(const TrainingJob& job, const std::string& plan_path) {
  frontend::PlanMeta meta;
  meta.recipe_text = job.recipe_text;
  meta.recipe_path = job.recipe.path;
  meta.overrides = job.overrides;
  meta.data_input = job.io.data_input;
  meta.labels_input = job.io.labels_input;
  meta.loss_output = job.io.loss_output;
  meta.model_output = job.io.model_output;
  frontend::save_plan(plan_path, job.export_source, job.train, meta);
}

namespace {

// Joins the data-parallel job when started by an MPI launcher (fcrun -n N, mpirun, srun): every
// rank checks that it runs the same plan on the same data as rank 0 before the first step.
class DataParallelScope {
 public:
  DataParallelScope(const TrainingJob& job, const std::string& fingerprint) {
    if (!under_mpi_launcher()) return;
    // The heartbeat thread calls MPI beside the communication thread.
    distrib::Communicator::init(MPI_THREAD_MULTIPLE);
    const distrib::Communicator& comm = distrib::Communicator::world();
    const std::string& a = job.recipe.allreduce;
    dp_ = std::make_unique<runtime::DataParallel>(
        comm, a == "auto" ? distrib::AllreduceAlgorithm::SharedMemory : distrib::allreduce_algorithm_from_string(a));
    runtime::set_data_parallel(dp_.get());
    heartbeat_ = std::make_unique<distrib::Heartbeat>(
        comm, distrib::HeartbeatOptions{.interval_s = std::min(0.5, job.recipe.stall_timeout_s / 4),
                                        .timeout_s = job.recipe.stall_timeout_s});
    std::string mine = fingerprint;
    mine.resize(64, ' ');
    std::string root = mine;
    comm.broadcast_bytes(root.data(), root.size(), 0);
    FC_CHECK(root == mine, "rank ", comm.rank(), ": runs a different plan or data than rank 0 (", fingerprint,
             " vs ", root, ")");
  }
  ~DataParallelScope() { runtime::set_data_parallel(nullptr); }
  int rank() const { return dp_ ? dp_->rank() : 0; }
  int size() const { return dp_ ? dp_->size() : 1; }

 private:
  std::unique_ptr<runtime::DataParallel> dp_;
  std::unique_ptr<distrib::Heartbeat> heartbeat_;  // after dp_: stops before the comm thread
};

// What checkpoints are tied to: the training step's IR less its communication plan. The AllReduce
// buckets and algorithms are planned for a rank count and do not change what a step computes, so a
// checkpoint resumes on any number of ranks, and under a plan or the recipe it was compiled from.
std::string step_identity(const TrainingJob& job) {
  std::istringstream text(ir::print_graph(job.train));
  uint64_t h = ir::fnv1a64("");
  for (std::string line; std::getline(text, line);)
    if (line.find("= fc.AllReduce(") == std::string::npos) h = ir::fnv1a64(line + "\n", h);
  return "step-" + ir::hex64(h);
}

std::string job_fingerprint(const TrainingJob& job) {
  // FNV-1a of the plan (its hash, or the training graph's text) and the data files' names and sizes.
  uint64_t h = ir::fnv1a64(job.plan_hash.empty() ? ir::print_graph(job.train) : job.plan_hash);
  auto mix = [&](const std::string& s) { h = ir::fnv1a64(s, h); };
  for (const std::string& f : {job.recipe.train_x, job.recipe.train_y, job.recipe.train_tokens}) {
    std::error_code ec;
    mix(f + ":" + std::to_string(std::filesystem::file_size(f, ec)));
  }
  return ir::hex64(h);
}

int threads_for(const runtime::Recipe& r, int threads_override, int ranks) {
  if (threads_override > 0) return threads_override;  // the command line says exactly
  // Ranks of this job on this host share its cores: each gets its share, and a recipe's thread
  // count (written for one process) is capped at it. More threads than cores would spin against
  // each other (OpenMP and MPI both busy-wait).
  int local_ranks = std::max(1, ranks);
  if (const char* s = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) local_ranks = std::max(1, std::atoi(s));
  const int share = std::max(1, runtime::cpu::available_cores() / local_ranks);
  return r.threads > 0 ? std::min<int>(static_cast<int>(r.threads), share) : share;
}

// The CPU backend of a run: its threads and the recipe's [runtime] precision. When the CPU cannot
// multiply in bf16, the run goes on in fp32 and `announce` (rank 0) says so in one line.
runtime::cpu::CpuBackend backend_for(const runtime::Recipe& r, int threads, bool announce) {
  if (r.device == "cuda") {
    // One line and exit 1 where no usable GPU is (the driver's own reasons); where one is, say
    // plainly that the CUDA backend does not exist yet rather than train on the CPU unasked.
    const runtime::cuda::CudaDevice gpu = runtime::cuda::open_cuda_device();
    fail("[runtime] device = \"cuda\": found ", gpu.name, " (compute capability ", gpu.compute_capability / 10, ".",
         gpu.compute_capability % 10, "), but this fcrun has no CUDA backend yet; use device = \"cpu\"");
  }
  runtime::cpu::CpuBackend cpu(threads);
  std::string note;
  cpu.set_product_operands(runtime::cpu::product_operands_for(r.precision, &note));
  if (announce && !note.empty()) std::cerr << "fcrun: " << note << "\n";
  return cpu;
}

}  // namespace

int run_training(TrainingJob& job, bool resume, int threads_override, const std::string& trace_path) {
  const runtime::Recipe& r = job.recipe;
  DataParallelScope dp(job, job_fingerprint(job));
  if (!trace_path.empty()) runtime::Tracer::start(trace_path, dp.rank());
  if (dp.rank() == 0)
    for (const std::string& note : job_notes(job)) std::cerr << "fcrun: " << note << "\n";
  runtime::cpu::CpuBackend cpu = backend_for(r, threads_for(r, threads_override, dp.size()), dp.rank() == 0);
  runtime::Trainer trainer(job.train, job.inference, job.io, r, cpu);
  runtime::TrainOptions opts;
  opts.resume = resume;
  opts.plan_hash = step_identity(job);
  opts.progress_in_place = stdout_is_terminal();
  trainer.train(opts);
  if (const codegen::JitStats jit = runtime::cpu::jit_stats(); dp.rank() == 0 && jit.compiled + jit.loaded > 0)
    std::cout << "jit: " << jit.compiled << " fused kernels compiled, " << jit.loaded
              << " loaded from the kernel cache\n";
  if (!r.output_model.empty() && dp.rank() == 0) {
    frontend::export_trained_onnx(job.export_source, trainer.state(), r.output_model);
    std::cout << "trained model written to " << r.output_model << "\n";
    if (const auto& classes = trainer.training_set().classes; !classes.empty()) {
      runtime::data::write_class_index(r.output_model, classes);
      std::cout << "class index written to " << runtime::data::class_index_path(r.output_model) << "\n";
    }
  }
  if (!trace_path.empty()) {
    runtime::Tracer::finish();
    if (dp.rank() == 0) std::cout << "trace written to " << trace_path << (dp.size() > 1 ? " (and per rank)" : "") << "\n";
  }
  return 0;
}

int debug_steps(const std::string& recipe_path, const std::vector<std::string>& overrides,
                const std::string& dump_dir, int threads_override) {
  namespace fs = std::filesystem;
  TrainingJob job = job_from_recipe(recipe_path, overrides);
  const runtime::Recipe& r = job.recipe;
  DataParallelScope dp(job, job_fingerprint(job));
  for (const auto& [param, grad] : job.gradients) job.train.outputs.push_back(job.train.value(grad));
  // Developer aid: FC_DUMP_VALUES=name1,name2 also dumps these intermediate values every step (on
  // every rank; tests/parity/train_parity.py reads ReLU outputs and max-pool argmax this way).
  std::vector<std::string> extra;
  if (const char* env = std::getenv("FC_DUMP_VALUES")) {
    std::string list = env;
    for (size_t pos = 0; pos <= list.size();) {
      size_t comma = std::min(list.find(',', pos), list.size());
      if (comma > pos) extra.push_back(list.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  for (const std::string& v : extra) job.train.outputs.push_back(job.train.value(v));
  runtime::cpu::CpuBackend cpu = backend_for(r, threads_for(r, threads_override, dp.size()), dp.rank() == 0);
  runtime::Executor ex(job.train, cpu);
  runtime::data::Dataset ds = runtime::data::load_training_set(
      r, runtime::data::input_channels(job.train.value(job.io.data_input)->type), dp.rank() == 0);
  runtime::data::BatchLoader loader(ds, r.batch_size, r.shuffle, r.seed, dp.rank(), dp.size());
  const int64_t total = runtime::total_steps(r, loader.steps_per_epoch());
  fs::create_directories(fs::path(dump_dir) / "grad");
  fs::create_directories(fs::path(dump_dir) / "state");
  ir::Tensor hyper, rng, losses(ir::DType::F32, {total}), norms(ir::DType::F32, {total});
  const bool clips = job.train.find_value(ir::kGradNormName) != nullptr;
  for (int64_t step = 0; step < total; ++step) {
    runtime::data::Batch b = loader.next();
    runtime::fill_step_inputs(r, step, total, hyper, rng);
    auto out = runtime::run_training_step(ex, job.io, b, runtime::micro_batches(r, dp.size()), hyper, rng);
    double loss = out.at(job.io.loss_output).data<float>()[0];
    if (runtime::DataParallel* d = runtime::data_parallel(); d && d->size() > 1) d->sum_doubles(&loss, 1);
    losses.data<float>()[step] = static_cast<float>(loss);
    if (clips) norms.data<float>()[step] = out.at(ir::kGradNormName).data<float>()[0];
    const fs::path grad_dir = fs::path(dump_dir) / (step == 0 ? std::string("grad") : "grad_step" + std::to_string(step));
    fs::create_directories(grad_dir);
    // Intermediate values are each rank's own rows of the batch: rank r > 0 writes value<i>.rank<r>.npy.
    const std::string rank_suffix = dp.rank() == 0 ? "" : ".rank" + std::to_string(dp.rank());
    for (size_t i = 0; i < extra.size(); ++i)
      runtime::save_npy((grad_dir / ("value" + std::to_string(i) + rank_suffix + ".npy")).string(), out.at(extra[i]));
    if (dp.rank() != 0) continue;  // the gradients are allreduced: rank 0 alone writes them
    for (const auto& [param, grad] : job.gradients)
      runtime::save_npy((grad_dir / (param + ".npy")).string(), out.at(grad));
  }
  if (dp.rank() != 0) return 0;
  runtime::save_npy((fs::path(dump_dir) / "loss.npy").string(), losses);
  if (clips) runtime::save_npy((fs::path(dump_dir) / "grad_norm.npy").string(), norms);
  for (const auto& [param, next] : job.train.state_updates)
    runtime::save_npy((fs::path(dump_dir) / "state" / (param->name + ".npy")).string(), ex.state(param));
  std::cout << "ran " << total << " steps; dumped to " << dump_dir << "\n";
  return 0;
}

runtime::EvalResult evaluate_model(const std::string& model_or_plan, const runtime::Recipe& r, int threads) {
  ir::Graph g = frontend::is_plan_file(model_or_plan) ? frontend::load_plan(model_or_plan).inference
                                                      : load_model(model_or_plan);
  passes::to_inference_form(g);
  std::string input = r.model_input.empty() ? (g.inputs.size() == 1 ? g.inputs[0]->name : "") : r.model_input;
  FC_CHECK(!input.empty(), r.path, ": [model] input: the model has several inputs; name the one fed with data");
  runtime::data::Dataset test = runtime::data::load_test_set(r, runtime::data::input_channels(g.value(input)->type));
  FC_CHECK(test.size() > 0, r.path,
           r.data_format == "image_folder" ? ": [data] test_dir is needed for evaluation"
           : r.data_format == "tokens"     ? ": [data] test_tokens is needed for evaluation"
                                           : ": [data] test_x and test_y are needed for evaluation");
  std::string output = r.model_output.empty() ? g.outputs.at(0)->name : r.model_output;
  runtime::cpu::CpuBackend cpu = backend_for(r, threads, true);
  return runtime::evaluate(g, input, output, test, cpu, std::max<int64_t>(r.batch_size, 256), r.ignore_index);
}

}  // namespace fc::cli
