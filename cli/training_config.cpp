#include "cli/training_config.h"

#include <optional>

#include "cli/bucketing_model.h"
#include "support/error.h"
#include "passes/graph_loss.h"

namespace fc::cli {

void check_model_keys(const runtime::Recipe& r, const ir::Graph& model) {
  for (const std::string& name : r.frozen) {
    const ir::Value* p = model.find_value(name);
    FC_CHECK(p && model.is_param(p), "[model] frozen: '", name, "' is not a parameter (initializer) of the model");
  }
  const ir::Value* logits = model.outputs.at(0);
  if (!r.model_output.empty()) {
    logits = model.find_value(r.model_output);
    FC_CHECK(logits && std::find(model.outputs.begin(), model.outputs.end(), logits) != model.outputs.end(),
             "[model] output: '", r.model_output, "' is not an output of the model");
  }
  const std::optional<passes::GraphLoss> graph_loss = passes::find_graph_loss(model, logits);
  if (graph_loss) {
    FC_CHECK(r.loss == "cross_entropy", "[model] loss: the model ends in its own cross-entropy loss ('",
             graph_loss->loss->name, "'); \"", r.loss, "\" cannot replace it");
    FC_CHECK(r.label_smoothing == 0.0, "[model] label_smoothing: the model ends in its own loss ('",
             graph_loss->loss->name, "'), which has no label smoothing; remove the key or export the model without it");
    logits = graph_loss->scores;
  }
  // A scalar output the model computes itself is a loss of a form autodiff does not train through
  // (an expanded SoftmaxCrossEntropyLoss: class weights, reduction "none", [N, C, d...] scores, ...).
  FC_CHECK(graph_loss || logits->type.rank() > 0, "[model] output: '", logits->name,
           "' is a scalar the model computes (its own loss?); a model's own loss trains only as "
           "SoftmaxCrossEntropyLoss over [N, C] scores, int64 labels, mean or sum, no class weights: export the "
           "model without its loss ([model] loss adds one) or name its scores in [model] output");
  const std::vector<ir::Value*> data = passes::data_inputs(model, graph_loss);
  if (!r.model_input.empty()) {
    const ir::Value* x = model.find_value(r.model_input);
    FC_CHECK(x && std::find(model.inputs.begin(), model.inputs.end(), x) != model.inputs.end(),
             "[model] input: '", r.model_input, "' is not a data input of the model");
    FC_CHECK(!graph_loss || x != graph_loss->labels, "[model] input: '", x->name, "' holds the labels of the model's loss");
  } else {
    FC_CHECK(data.size() == 1, "[model] input: the model has ", data.size(), " data inputs (", passes::describe_values(data),
             "); name the one fed with data");
  }
  if (graph_loss) return;
  // The loss's divisor needs the positions (cross-entropy) or elements (MSE) of one sample.
  const ir::TensorType& t = logits->type;
  const bool ce = r.loss == "cross_entropy";
  FC_CHECK(!ce || t.rank() >= 2, "[model] output: cross-entropy needs [batch, ..., classes] logits, '", logits->name,
           "' is ", ir::to_string(t));
  for (size_t d = 1; d + (ce ? 1 : 0) < t.rank(); ++d)
    FC_CHECK(t.dims[d].is_known(), "[model] output: ",
             ce ? "cross-entropy needs the positions per sample of '" : "MSE needs the sample shape of '",
             logits->name, "', which is ", ir::to_string(t));
}

passes::TrainingConfig training_config(const runtime::Recipe& r) {
  passes::TrainingConfig cfg;
  cfg.input = r.model_input;
  cfg.output = r.model_output;
  cfg.loss = r.loss == "mse" ? passes::LossKind::mse : passes::LossKind::cross_entropy;
  cfg.optimizer = r.optimizer == "adamw"  ? passes::OptimizerKind::adamw
                  : r.optimizer == "lars" ? passes::OptimizerKind::lars
                  : r.optimizer == "lamb" ? passes::OptimizerKind::lamb
                                          : passes::OptimizerKind::sgd;
  cfg.momentum = r.momentum != 0.0;
  cfg.nesterov = r.nesterov;
  cfg.decay_1d = !r.weight_decay_skip_1d;
  cfg.clip_grad_norm = static_cast<float>(r.clip_grad_norm);
  // The loss is the mean over the global batch: each rank divides its share's sum by the global
  // batch size and the gradient allreduce adds the shares.
  cfg.loss_count = r.batch_size;
  cfg.accumulate = r.micro_batch_size.has_value();
  cfg.ignore_index = r.ignore_index;
  cfg.label_smoothing = static_cast<float>(r.label_smoothing);
  cfg.sync_batchnorm = r.sync_batchnorm;
  cfg.bucketing = bucketing_options(r);
  cfg.fusion = r.fusion;
  cfg.attention = r.attention;
  cfg.frozen = r.frozen;
  return cfg;
}

}  // namespace fc::cli
