// The IR: a graph of nodes over typed values, in topological order.
//
// A Value is produced by exactly one node, or is a graph input, or is a parameter (an initializer
// with a Tensor). Nodes name their op by its ONNX name (domain "" = ONNX; project ops use domain
// "fc"). Semantics are those of the newest supported ONNX opset, with inputs that only configure an
// op (axes, pads, target shapes, ...) held as attributes once known; the frontend normalises older
// opsets into this form, so passes and backends see one form per op.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/attribute.h"
#include "ir/tensor.h"
#include "ir/types.h"

namespace fc::ir {

struct Node;

struct Value {
  std::string name;
  TensorType type;
  Node* producer = nullptr;  // null for graph inputs and parameters
  int producer_output = -1;
};

struct Node {
  std::string op;       // ONNX op type, e.g. "Conv"
  std::string domain;   // "" for ONNX ops
  std::string name;     // unique within the graph (the ONNX node name, or generated)
  std::vector<Value*> inputs;   // nullptr marks an omitted optional input
  std::vector<Value*> outputs;
  std::map<std::string, Attribute> attrs;
  // Autodiff's provenance: the forward node whose gradient rule emitted this node (null for every
  // other node, and once that node is removed). Passes after autodiff pair a gradient with its
  // forward node by it (passes/saved_outputs.h, passes/loss_fusion.h) instead of matching attributes.
  Node* gradient_of = nullptr;

  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
  // Typed attribute lookup. A missing attribute falls back to the default in the op's schema;
  // a missing attribute without default, or one of the wrong kind, throws fc::Error naming the node.
  int64_t attr_int(const std::string& key) const;
  float attr_float(const std::string& key) const;
  const std::string& attr_string(const std::string& key) const;
  const std::vector<int64_t>& attr_ints(const std::string& key) const;
  const std::vector<float>& attr_floats(const std::string& key) const;
  const Tensor& attr_tensor(const std::string& key) const;
  const Attribute& attr(const std::string& key) const;

  Value* input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  std::string describe() const;  // "Conv node 'conv1'" for error messages
};

class Graph {
 public:
  std::string name = "main";
  int opset = 17;
  std::vector<Value*> inputs;   // data inputs (not parameters)
  std::vector<Value*> outputs;

  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) = default;
  Graph& operator=(Graph&&) = default;

  // Values. Names are unique; add_value throws on a duplicate.
  Value* add_value(const std::string& name, TensorType type);
  Value* find_value(const std::string& name) const;
  Value* value(const std::string& name) const;  // throws if missing
  std::string unique_name(const std::string& base) const;
  std::string unique_node_name(const std::string& base) const;

  // Parameters (initializers): a value together with its tensor, in declaration order.
  Value* add_param(const std::string& name, Tensor t);
  bool is_param(const Value* v) const { return v && params_.count(v->name) != 0; }
  const Tensor& param(const Value* v) const;
  Tensor& param_mut(const Value* v);
  void set_param(const Value* v, Tensor t);
  const std::vector<Value*>& param_order() const { return param_order_; }
  void remove_param(Value* v);

  // Nodes, in topological order after toposort().
  Node* add_node(std::string op, std::vector<Value*> inputs, std::vector<Value*> outputs,
                 std::map<std::string, Attribute> attrs = {}, std::string name = {});
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  void remove_node(Node* n);
  // Forgets a value that nothing produces or reads any more (invalidates the pointer).
  void remove_value(Value* v);
  void toposort();            // stable topological order (worklist, no recursion); throws on a cycle
  // Moves `n` to run as early as its inputs allow: right after the last producer of its inputs (in
  // the current order; to the front when it has none). Keeps a topological order topological.
  void hoist(Node* n);
  // Moves `n` to run just before `anchor` (the caller keeps the order topological).
  void move_before(Node* n, const Node* anchor);
  void remove_dead_nodes();   // nodes whose outputs reach no graph output, and unused values/params
  std::vector<Node*> users(const Value* v) const;
  // Each node's index in the current order (invalidated by any change to the order).
  std::unordered_map<const Node*, size_t> node_positions() const;
  // Replace every use of `from` (node inputs and graph outputs) by `to`.
  void replace_uses(Value* from, Value* to);

  // Training state: after each step, parameter `first` takes the value computed for `second`
  // (weights, optimizer state, BatchNorm running statistics). Empty for inference graphs.
  std::vector<std::pair<Value*, Value*>> state_updates;
  // Gradient accumulation ([train] micro_batch_size): parameter `first` (zeros at first) holds a
  // gradient summed over the micro-batches of the step so far; `second` is that sum with this
  // micro-batch's gradient added, and is what the allreduce and the update read. A micro-batch that
  // is not the step's last runs only the nodes that depend on no `second` and keeps `second` in
  // `first`; the last runs the whole graph and resets `first` to zeros (runtime/executor.h).
  std::vector<std::pair<Value*, Value*>> accumulations;

 private:
  std::unordered_map<std::string, std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, Tensor> params_;
  std::vector<Value*> param_order_;
};

}  // namespace fc::ir
