#include "passes/training_graph.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <unordered_set>

#include "support/error.h"
#include "ir/hyperparams.h"
#include "ir/op_registry.h"
#include "ir/scalar_form.h"
#include "ir/step_analysis.h"
#include "passes/allreduce_buckets.h"
#include "passes/attention_fusion.h"
#include "passes/autodiff.h"
#include "passes/graph_loss.h"
#include "passes/loss_fusion.h"
#include "passes/saved_outputs.h"
#include "passes/transpose_folding.h"
#include "passes/update_fusion.h"

namespace fc::passes {

namespace {

using ir::DType;
using ir::Dim;
using ir::Graph;
using ir::Node;
using ir::TensorType;
using ir::Value;

Value* fresh(Graph& g, const std::string& base) { return g.add_value(g.unique_name(base), {}); }

// LARS / LAMB leave biases and BatchNorm scales and shifts out of the trust ratio and weight decay
// (You et al. 2017): the parameters with fewer than two dimensions.
bool excluded_from_layerwise(const Value* p) { return p->type.rank() < 2; }

// PyTorch's momentum from ONNX's (running = m_onnx * running + (1 - m_onnx) * batch). Rounded to 6
// decimals so that 1 - 0.9f gives exactly PyTorch's 0.1 rather than 0.099999994.
float torch_momentum(float onnx_momentum) {
  return static_cast<float>(std::round((1.0 - double(onnx_momentum)) * 1e6) / 1e6);
}

void convert_batchnorm(Graph& g, Node* bn, std::vector<std::string>& buffers, bool sync) {
  for (int i = 3; i < 5; ++i)
    FC_CHECK(bn->inputs.at(i) && g.is_param(bn->inputs[i]), bn->describe(), ": running statistics must be initializers");
  Value* y = bn->outputs[0];
  std::vector<Value*> old_outputs = bn->outputs;
  std::vector<Value*> ins = bn->inputs;
  float eps = bn->attr_float("epsilon"), m = torch_momentum(bn->attr_float("momentum"));
  std::string name = bn->name;
  g.remove_node(bn);
  Value* rm = fresh(g, ins[3]->name + "/next");
  Value* rv = fresh(g, ins[4]->name + "/next");
  Value* sm = fresh(g, name + "/saved_mean");
  Value* si = fresh(g, name + "/saved_invstd");
  ir::add_node_inferred(g, "BatchNormTraining", "fc", ins, {y, rm, rv, sm, si},
                        {{"epsilon", eps}, {"momentum", m}, {"sync", int64_t{sync}}}, name);
  // A training-form export also returns the running statistics: their users see ours.
  if (old_outputs.size() > 1 && old_outputs[1]) g.replace_uses(old_outputs[1], rm);
  if (old_outputs.size() > 2 && old_outputs[2]) g.replace_uses(old_outputs[2], rv);
  g.state_updates.emplace_back(ins[3], rm);
  g.state_updates.emplace_back(ins[4], rv);
  buffers.push_back(ins[3]->name);
  buffers.push_back(ins[4]->name);
}

void convert_dropout(Graph& g, Node* d, Value* rng, int64_t stream) {
  float ratio = d->attr_float("ratio");
  Value* x = d->inputs[0];
  Value* y = d->outputs[0];
  std::string name = d->name;
  g.remove_node(d);
  ir::add_node_inferred(g, "DropoutTraining", "fc", {x, rng}, {y, fresh(g, name + "/scale")},
               {{"ratio", ratio}, {"stream", stream}}, name);
}

// torch.nn.utils.clip_grad_norm_ between the allreduce and the updates: the global L2 norm of every
// parameter's summed gradient (the same on every rank), and each gradient the updates read scaled by
// min(1, max_norm / (norm + 1e-6)), in float as PyTorch computes it. The norm is the value
// ir::kGradNormName, a graph output for the metrics.
void clip_gradients(Graph& g, float max_norm) {
  std::vector<Node*> updates;
  std::vector<Value*> grads;
  for (const auto& n : g.nodes())
    if (ir::is_optimizer_update(*n)) {
      updates.push_back(n.get());
      grads.push_back(ir::update_gradient(*n));
    }
  if (updates.empty()) return;
  Value* norm = g.add_value(ir::kGradNormName, {});
  ir::add_node_inferred(g, "GlobalNorm", "fc", grads, {norm}, {}, "clip/norm");
  auto constant = [&](float v, const std::string& name) {
    Value* c = fresh(g, name);
    ir::add_node_inferred(g, "Constant", "", {}, {c}, {{"value", ir::Tensor::scalar<float>(v)}}, name);
    return c;
  };
  Value* padded = fresh(g, "clip/norm_plus_eps");
  ir::add_node_inferred(g, "Add", "", {norm, constant(1e-6f, "clip/eps")}, {padded}, {}, "clip/norm_plus_eps");
  Value* ratio = fresh(g, "clip/ratio");
  ir::add_node_inferred(g, "Div", "", {constant(max_norm, "clip/max_norm"), padded}, {ratio}, {}, "clip/ratio");
  Value* coef = fresh(g, "clip/coef");
  ir::add_node_inferred(g, "Min", "", {ratio, constant(1.0f, "clip/one")}, {coef}, {}, "clip/coef");
  for (Node* u : updates) {
    Value*& grad = ir::update_gradient(*u);
    Value* clipped = fresh(g, grad->name + "/clipped");
    ir::add_node_inferred(g, "Mul", "", {grad, coef}, {clipped}, {}, u->name + "/clip");
    grad = clipped;
  }
  g.toposort();
}

// What the passes find out and hand on: the values they make or pick, shared by the pipeline.
struct PipelineState {
  Value* x = nullptr;       // data input
  Value* logits = nullptr;  // model output the loss reads
  std::optional<GraphLoss> graph_loss;
  Value* rng = nullptr;
  Value* labels = nullptr;
  Value* loss = nullptr;
  Value* hyper = nullptr;
  std::vector<Value*> wrt;  // trainable parameters, in parameter order
  Gradients grads;
};

void add_input(Graph& g, Value* v) {
  if (std::find(g.inputs.begin(), g.inputs.end(), v) == g.inputs.end()) g.inputs.push_back(v);
}

// training-form: picks the data input and the model output (or the model's own loss), then the
// training forms of BatchNorm and Dropout.
void training_form(Graph& g, const TrainingConfig& config, TrainingGraphInfo& info, PipelineState& s) {
  FC_CHECK(g.state_updates.empty(), "training graph: the graph is already a training graph");
  s.logits = g.outputs.at(0);
  if (!config.output.empty()) {
    s.logits = nullptr;
    for (Value* v : g.outputs)
      if (v->name == config.output) s.logits = v;
    FC_CHECK(s.logits, "training graph: '", config.output, "' is not an output of the model");
  }
  // A model that ends in its own loss trains with it: the model output is the scores it reads.
  s.graph_loss = find_graph_loss(g, s.logits);
  if (s.graph_loss) {
    FC_CHECK(config.loss == LossKind::cross_entropy, "training graph: the model ends in its own cross-entropy loss ('",
             s.graph_loss->loss->name, "'), which MSE cannot replace");
    FC_CHECK(config.label_smoothing == 0.0f, "training graph: the model ends in its own loss ('",
             s.graph_loss->loss->name, "'), which has no label smoothing");
    s.logits = s.graph_loss->scores;
  }
  if (!config.input.empty()) {
    for (Value* v : g.inputs)
      if (v->name == config.input) s.x = v;
    FC_CHECK(s.x, "training graph: '", config.input, "' is not a data input of the model");
  } else {
    std::vector<Value*> data = data_inputs(g, s.graph_loss);
    FC_CHECK(data.size() == 1, "training graph: the model has ", data.size(), " data inputs (", describe_values(data),
             "); name the one fed with data");
    s.x = data[0];
  }
  FC_CHECK(!s.graph_loss || s.x != s.graph_loss->labels, "training graph: '", s.x->name,
           "' holds the labels of the model's loss");
  info.data_input = s.x->name;
  info.model_output = s.logits->name;

  s.rng = g.add_value(ir::kRngInputName, TensorType(DType::I64, {Dim::known(2)}));
  std::vector<Node*> bns, dropouts;
  for (const auto& n : g.nodes()) {
    if (n->domain.empty() && n->op == "BatchNormalization") bns.push_back(n.get());
    if (n->domain.empty() && n->op == "Dropout") dropouts.push_back(n.get());
  }
  for (Node* bn : bns) convert_batchnorm(g, bn, info.buffers, config.sync_batchnorm);
  int64_t stream = 0;
  for (Node* d : dropouts) convert_dropout(g, d, s.rng, stream++);
  g.toposort();
  add_input(g, s.rng);
}

// loss: the loss over the model output (or the model's own, its mean over the global batch).
void add_loss(Graph& g, const TrainingConfig& config, TrainingGraphInfo& info, PipelineState& s) {
  Value* logits = s.logits;
  if (s.graph_loss) {
    s.labels = s.graph_loss->labels;
    s.loss = s.graph_loss->loss;
    // The mean over a data-parallel shard divides by the global batch (a sum needs nothing).
    if (s.graph_loss->node->attr_string("reduction") == "mean")
      s.graph_loss->node->attrs["scale_count"] = config.loss_count;
  } else if (config.loss == LossKind::cross_entropy) {
    s.loss = g.add_value(g.unique_name("loss"), {});
    // Over the last axis: [batch, classes] with labels [batch], or a language model's [batch, T, V]
    // with labels [batch, T]; the mean is over every labelled position of the global batch.
    const size_t rank = logits->type.rank();
    FC_CHECK(rank >= 2, "training graph: cross-entropy needs [batch, ..., classes] logits, '", logits->name, "' is ",
             ir::to_string(logits->type));
    int64_t positions = 1;
    for (size_t d = 1; d + 1 < rank; ++d) {
      FC_CHECK(logits->type.dims[d].is_known(), "training graph: cross-entropy needs the positions per sample of '",
               logits->name, "', which is ", ir::to_string(logits->type));
      positions *= logits->type.dims[d].size;
    }
    s.labels = g.add_value(g.unique_name("labels"),
                           TensorType(DType::I64, std::vector<Dim>(logits->type.dims.begin(), logits->type.dims.end() - 1)));
    ir::add_node_inferred(g, "SoftmaxCrossEntropy", "fc", {logits, s.labels}, {s.loss},
                 {{"scale_count", config.loss_count * positions},
                  {"ignore_index", config.ignore_index},
                  {"label_smoothing", config.label_smoothing}},
                 "loss");
  } else {
    s.loss = g.add_value(g.unique_name("loss"), {});
    s.labels = g.add_value(g.unique_name("targets"), logits->type);
    Value* diff = fresh(g, "loss/diff");
    ir::add_node_inferred(g, "Sub", "", {logits, s.labels}, {diff}, {}, "loss/diff");
    Value* sq = fresh(g, "loss/square");
    ir::add_node_inferred(g, "Mul", "", {diff, diff}, {sq}, {}, "loss/square");
    // The mean over every element of the (global) batch, as F.mse_loss: sum / count, where the count
    // is the global batch's when this graph trains a data-parallel shard of it.
    int64_t per_sample = 1;
    for (size_t d = 1; d < logits->type.rank(); ++d) {
      FC_CHECK(logits->type.dims[d].is_known(), "training graph: MSE needs the sample shape of '", logits->name,
               "', which is ", ir::to_string(logits->type));
      per_sample *= logits->type.dims[d].size;
    }
    if (config.loss_count > 0) {
      Value* total = fresh(g, "loss/sum");
      ir::add_node_inferred(g, "ReduceSum", "", {sq}, {total}, {{"keepdims", int64_t{0}}}, "loss/sum");
      ir::Tensor count_value(DType::F32, {});
      count_value.data<float>()[0] = static_cast<float>(config.loss_count * per_sample);
      Value* count = fresh(g, "loss/count");
      ir::add_node_inferred(g, "Constant", "", {}, {count}, {{"value", count_value}}, "loss/count");
      ir::add_node_inferred(g, "Div", "", {total, count}, {s.loss}, {}, "loss/mean");
    } else {
      ir::add_node_inferred(g, "ReduceMean", "", {sq}, {s.loss}, {{"keepdims", int64_t{0}}}, "loss/mean");
    }
  }
  info.labels_input = s.labels->name;
  info.loss_output = s.loss->name;
  add_input(g, s.labels);
}

// autodiff: gradients for trainable float parameters: everything float but BatchNorm running
// statistics, frozen parameters, and parameters only feeding non-differentiable (integer) paths.
void add_gradients(Graph& g, const TrainingConfig& config, TrainingGraphInfo& info, PipelineState& s) {
  std::set<std::string> not_trained(info.buffers.begin(), info.buffers.end());
  for (const std::string& f : config.frozen) {
    FC_CHECK(g.find_value(f) && g.is_param(g.find_value(f)), "training graph: frozen '", f, "' is not a parameter");
    not_trained.insert(f);
  }
  for (Value* p : g.param_order())
    if (p->type.dtype == DType::F32 && !not_trained.count(p->name)) s.wrt.push_back(p);
  s.grads = build_gradients(g, s.loss, s.wrt);
  for (const Value* u : s.grads.unused) info.unused.push_back(u->name);
}

// accumulate: micro-batches before a step's last stop at these sums (runtime/executor.h); the
// allreduce, clipping and updates read the sum over every micro-batch of the step.
void accumulate_gradients(Graph& g, PipelineState& s) {
  for (Value* p : s.wrt) {
    auto it = s.grads.of.find(p);
    if (it == s.grads.of.end()) continue;
    Value* acc = g.add_param(g.unique_name(p->name + ".grad_accum"), ir::Tensor(DType::F32, g.param(p).dims()));
    Value* sum = fresh(g, it->second->name + "/accumulated");
    ir::add_node_inferred(g, "Add", "", {acc, it->second}, {sum}, {}, p->name + "/accumulate");
    g.accumulations.emplace_back(acc, sum);
    it->second = sum;
  }
  g.toposort();
}

// optimizer: one update node per trained parameter, its state as zero-initialised parameters.
void add_updates(Graph& g, const TrainingConfig& config, TrainingGraphInfo& info, PipelineState& s) {
  s.hyper = g.add_value(ir::kHyperInputName, TensorType(DType::F32, {Dim::known(ir::kHyperSize)}));
  Value* hyper = s.hyper;
  for (Value* p : s.wrt) {
    auto it = s.grads.of.find(p);
    if (it == s.grads.of.end()) continue;
    Value* grad = it->second;
    info.trainable.push_back(p->name);
    info.gradient_values.push_back(grad->name);
    const ir::Tensor zeros(DType::F32, g.param(p).dims());
    Value* next = fresh(g, p->name + "/next");
    // Biases and normalisation scales (1-D, or scalars) out of weight decay when the recipe says so.
    const int64_t decay = config.decay_1d || g.param(p).rank() >= 2 ? 1 : 0;
    switch (config.optimizer) {
      case OptimizerKind::sgd:
        if (config.momentum) {
          Value* buf = g.add_param(g.unique_name(p->name + ".momentum_buffer"), zeros);
          Value* buf_next = fresh(g, buf->name + "/next");
          ir::add_node_inferred(g, "SGDUpdate", "fc", {p, grad, hyper, buf}, {next, buf_next},
                       {{"nesterov", int64_t{config.nesterov}}, {"decay", decay}}, p->name + "/sgd");
          g.state_updates.emplace_back(buf, buf_next);
        } else {
          ir::add_node_inferred(g, "SGDUpdate", "fc", {p, grad, hyper}, {next},
                                {{"nesterov", int64_t{0}}, {"decay", decay}},
                       p->name + "/sgd");
        }
        break;
      case OptimizerKind::adamw:
      case OptimizerKind::lamb: {
        Value* m = g.add_param(g.unique_name(p->name + ".exp_avg"), zeros);
        Value* v = g.add_param(g.unique_name(p->name + ".exp_avg_sq"), zeros.clone());
        Value* m_next = fresh(g, m->name + "/next");
        Value* v_next = fresh(g, v->name + "/next");
        if (config.optimizer == OptimizerKind::adamw)
          ir::add_node_inferred(g, "AdamWUpdate", "fc", {p, grad, m, v, hyper}, {next, m_next, v_next},
                                {{"decay", decay}},
                       p->name + "/adamw");
        else
          ir::add_node_inferred(g, "LambUpdate", "fc", {p, grad, m, v, hyper}, {next, m_next, v_next},
                       {{"exclude", int64_t{excluded_from_layerwise(p)}}}, p->name + "/lamb");
        g.state_updates.emplace_back(m, m_next);
        g.state_updates.emplace_back(v, v_next);
        break;
      }
      case OptimizerKind::lars: {
        Value* buf = g.add_param(g.unique_name(p->name + ".momentum_buffer"), zeros);
        Value* buf_next = fresh(g, buf->name + "/next");
        ir::add_node_inferred(g, "LarsUpdate", "fc", {p, grad, buf, hyper}, {next, buf_next},
                     {{"exclude", int64_t{excluded_from_layerwise(p)}}}, p->name + "/lars");
        g.state_updates.emplace_back(buf, buf_next);
        break;
      }
    }
    g.state_updates.emplace_back(p, next);
  }
  add_input(g, hyper);
}

// allreduce-buckets: the gradients' sum over ranks, bucketed; what each update reads is that sum.
void add_allreduce(Graph& g, const TrainingConfig& config, TrainingGraphInfo& info, PipelineState& s) {
  BucketingOptions bucketing = config.bucketing;
  bucketing.loss = s.loss;
  info.buckets = insert_allreduce_buckets(g, bucketing);
  for (const ir::UpdateSlot& u : ir::analyze_step(g, s.loss).updates)
    for (size_t i = 0; i < info.trainable.size(); ++i)
      if (info.trainable[i] == u.parameter->name) info.gradient_values[i] = u.gradient->name;
}

// step-io: the step's inputs and outputs, and nothing that reaches none of them.
void set_step_io(Graph& g, PipelineState& s) {
  g.inputs = {s.x, s.labels, s.hyper, s.rng};
  g.outputs = {s.loss, s.logits};
  if (Value* norm = g.find_value(ir::kGradNormName)) g.outputs.push_back(norm);
  g.remove_dead_nodes();
}

}  // namespace

std::vector<Pass> training_passes(const TrainingConfig& config, TrainingGraphInfo& info) {
  auto s = std::make_shared<PipelineState>();
  std::vector<Pass> passes = {
      {"training-form", [&config, &info, s](Graph& g) { training_form(g, config, info, *s); }},
  };
  // On the forward graph, before autodiff, so that the gradient is fc.AttentionGrad's.
  if (config.attention)
    passes.push_back({"attention-fusion", [&config](Graph& g) {
                        fuse_attention(g, std::set<std::string>(config.frozen.begin(), config.frozen.end()));
                      }});
  passes.push_back({"loss", [&config, &info, s](Graph& g) { add_loss(g, config, info, *s); }});
  passes.push_back({"autodiff", [&config, &info, s](Graph& g) { add_gradients(g, config, info, *s); }});
  if (config.accumulate) passes.push_back({"accumulate", [s](Graph& g) { accumulate_gradients(g, *s); }});
  passes.push_back({"optimizer", [&config, &info, s](Graph& g) { add_updates(g, config, info, *s); }});
  passes.push_back({"allreduce-buckets", [&config, &info, s](Graph& g) { add_allreduce(g, config, info, *s); }});
  if (config.clip_grad_norm > 0)
    passes.push_back({"clip-gradients", [&config](Graph& g) { clip_gradients(g, config.clip_grad_norm); }});
  passes.push_back({"step-io", [s](Graph& g) { set_step_io(g, *s); }});
  passes.push_back({"saved-outputs", [s](Graph& g) { apply_saved_outputs(g, s->grads.saved_output_offers); }});
  if (config.fusion) {
    passes.push_back({"transpose-folding", [](Graph& g) { fold_transposes(g); }});
    passes.push_back({"elementwise-fusion", [](Graph& g) { fuse_elementwise(g); }});
    passes.push_back({"update-fusion", [](Graph& g) { fuse_updates(g); }});
    passes.push_back({"loss-fusion", [](Graph& g) { fuse_loss_gradient(g); }});
  }
  return passes;
}

TrainingGraphInfo build_training_graph(Graph& g, const TrainingConfig& config, const PassManagerOptions& options) {
  TrainingGraphInfo info;
  PassManager pm(options);
  for (Pass& p : training_passes(config, info)) pm.add(std::move(p));
  pm.run(g);
  return info;
}

}  // namespace fc::passes
