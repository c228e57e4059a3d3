// What an op's gradient rule sees and uses. Gradient rules are written in each op's one place
// (ir/ops/<op>.cpp, OpSchema::gradient) as ordinary IR: the rule receives the forward node and the
// gradients flowing into its outputs, and emits IR nodes computing the gradients of its inputs.
// Backward-only ops it needs (ConvBackwardData, MaxPoolBackward, ...) are ops of domain "fc" with
// their own op records and kernels.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace fc::ir {

// A forward output a gradient node may read instead of recomputing what it holds (max pooling's
// argmax): node `grad` may take output `output` of the forward node's training form `training_op`
// (same inputs and attributes; the forward's outputs first, then this one, `output` = their count,
// named after `name`) as
// an extra last input, with the same result. Autodiff's caller applies offers where it wants them
// (passes/saved_outputs.h); ignored, the gradient is still right. Nodes are named: passes between
// autodiff and the one applying the offers may remove nodes, and names are unique.
struct SavedOutputOffer {
  std::string forward, grad;  // node names
  std::string training_op, domain;
  size_t output = 0;
  std::string name;
};

class GradBuilder {
 public:
  // Every node emitted records `forward` as its Node::gradient_of.
  GradBuilder(Graph& g, Node& forward, std::vector<Value*> output_grads, std::vector<bool> needs_input_grad);

  const Node& node() const { return forward_; }
  Value* x(size_t i) const { return forward_.inputs.at(i); }   // forward input i (null if omitted)
  Value* y(size_t i) const { return forward_.outputs.at(i); }  // forward output i
  Value* dy(size_t i) const { return i < dys_.size() ? dys_[i] : nullptr; }  // null: no gradient flows
  bool needs(size_t i) const { return i < needs_.size() && needs_[i]; }

  // Emits `op` (domain "" = ONNX, "fc" = project op) with inferred output types; returns its outputs.
  std::vector<Value*> emit(const std::string& op, std::vector<Value*> inputs, std::map<std::string, Attribute> attrs,
                           int num_outputs, const std::string& domain = "");
  Value* emit1(const std::string& op, std::vector<Value*> inputs, std::map<std::string, Attribute> attrs = {},
               const std::string& domain = "") {
    return emit(op, std::move(inputs), std::move(attrs), 1, domain)[0];
  }
  Value* constant(const Tensor& t, const std::string& hint = "const");
  Value* scalar(float v) { return constant(Tensor::scalar<float>(v), "scalar"); }
  // Sums a broadcast gradient back to the shape of `like` (inverse of numpy broadcasting).
  Value* reduce_to_shape_of(Value* grad, Value* like);

  Graph& graph() { return g_; }

  // Offers `grad_value`'s node (emitted by this rule) output `output` of the forward node's training
  // form as an extra last input (see SavedOutputOffer).
  void offer_saved_output(const Value* grad_value, std::string training_op, std::string domain, size_t output,
                          std::string name);
  const std::vector<SavedOutputOffer>& offers() const { return offers_; }

 private:
  Graph& g_;
  Node& forward_;
  std::vector<Value*> dys_;
  std::vector<bool> needs_;
  std::vector<SavedOutputOffer> offers_;
};

// Returns one gradient per forward input (null where none is needed or defined).
using GradFn = std::function<std::vector<Value*>(GradBuilder&)>;

}  // namespace fc::ir
