// The op registry: every op is described once, in one file under ir/ops/, by an OpSchema —
// its ONNX name and supported opset range, its attributes with defaults, its one shape function
// (used by the verifier, by shape inference at import and by the runtime to size buffers), and its
// FLOP/byte cost. Backends attach kernels to the op by name (runtime/cpu/kernel_registry.h);
// the training work adds the gradient rule here too.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/attribute.h"
#include "ir/fused_kernel.h"
#include "ir/grad_builder.h"
#include "ir/graph.h"
#include "ir/types.h"

namespace fc::ir {

// What a shape function sees: the node (for attributes), its input types and, where known, the
// input values (parameters and constants at compile time; every input at run time).
struct InferContext {
  const Node& node;
  std::vector<TensorType> inputs;          // DType::Undefined for an omitted optional input
  std::vector<const Tensor*> values;       // same length as inputs; null where unknown

  size_t num_inputs() const { return inputs.size(); }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i].dtype != DType::Undefined; }
  const TensorType& in(size_t i) const;
  const Tensor* value(size_t i) const { return i < values.size() ? values[i] : nullptr; }
};

using ShapeFn = std::function<std::vector<TensorType>(const InferContext&)>;

struct OpCost {
  double flops = 0;  // floating-point operations (a fused multiply-add counts 2)
  double bytes = 0;  // bytes read + written, assuming no cache reuse across ops
};
// Evaluated on concrete types (batch known).
using CostFn = std::function<OpCost(const InferContext&, const std::vector<TensorType>& outputs)>;

// The op as scalar code inside a fused elementwise kernel (passes/elementwise_fusion.h): appends to
// `k` the computation of one element of each output from the value ids `in` of its inputs' elements
// (broadcast), and returns the outputs' value ids. Given only where every output element depends on
// the same element of each broadcast input alone, and the code gives bit for bit what the op's CPU
// kernel gives for f32 (so fusing never changes a result). For the op's table inputs
// (OpSchema::table_inputs) `in` holds the kernel's input index instead, read with k.param().
using ScalarFn = std::function<std::vector<int>(FusedKernel& k, const Node& node, const std::vector<int>& in)>;

// What a pass may ask of an op without comparing names: one answer per op, from its record.
enum class OpKind : uint8_t {
  Compute,          // any other op
  Convolution,      // a convolution or one of its gradients (the simulator's convolution rate)
  MatrixProduct,    // Gemm, MatMul (the simulator's matrix-product rate)
  OptimizerUpdate,  // (w, grad, state.., hyper) -> (w', state'..): input kUpdateGradientInput is the gradient
  Communication,    // started asynchronously beside compute (AllReduce)
  Loss,             // (scores, labels) -> (a scalar loss): inputs kLossScoresInput and kLossLabelsInput
};
inline constexpr size_t kUpdateGradientInput = 1;
inline constexpr size_t kLossScoresInput = 0, kLossLabelsInput = 1;

// An op with a training form (attribute training_mode = 1 in the IR) and how its inference form
// differs: the outputs it keeps (BatchNormalization drops its running statistics) and, in ONNX,
// the input that carries the mode (Dropout's, from opset 12). The one rule set of the IR pass
// (passes/inference_form.h) and the trained-model export (frontend/onnx_export.h).
struct TrainingForm {
  size_t inference_outputs = SIZE_MAX;  // outputs the inference form keeps (SIZE_MAX: all)
  int onnx_mode_input = -1;             // ONNX input index of training_mode; -1: an attribute
};

struct AttrSpec {
  std::string name;
  AttrKind kind;
  std::optional<Attribute> default_value;  // nullopt: required (or optional without default)
  bool required = false;
};

// The ONNX default-domain opsets the importer reads: 7 (numpy broadcasting everywhere) to 21
// (what PyTorch 2.x's exporter writes is 18 or 20). Every op's version table ends at or before 21.
inline constexpr int kOldestOnnxOpset = 7;
inline constexpr int kNewestOnnxOpset = 21;

struct OpSchema {
  std::string name;             // ONNX op type
  std::string domain;           // "" = ai.onnx
  // The op's ONNX version table: the opsets at which ONNX changed its definition (ONNX's
  // since_version), oldest first, up to kNewestOnnxOpset; empty for project ops. The importer
  // accepts the op from the first entry on; the frontend's rule for the op (frontend/
  // onnx_normalize.cpp) turns each version's form into the one form described here.
  std::vector<int> onnx_versions;
  int min_inputs = 1, max_inputs = 1;
  int min_outputs = 1, max_outputs = 1;
  std::vector<AttrSpec> attrs;
  ShapeFn infer;
  CostFn cost;                  // optional; default: flops = output elements, bytes = in + out
  std::string doc;              // one line for `fcc --help`/README
  GradFn gradient;              // optional: the gradient rule, as IR (see ir/grad_builder.h)
  ScalarFn scalar;              // optional: the op inside a fused elementwise kernel
  // Inputs the scalar form reads whole, as a table of scalars, not element by element: the
  // optimizer updates' hyper-parameter vector. Such an op is fused across tensors (horizontally,
  // passes/update_fusion.h), never into an elementwise chain.
  std::vector<int> table_inputs;
  // (output, input) pairs of `node` where the output may be written into the input's own buffer:
  // element i of the input is read before element i of the output is written, and nothing else of
  // it after (the optimizer updates). ir/in_place.h decides where a graph uses that.
  std::function<std::vector<std::pair<int, int>>(const Node& node)> in_place;
  OpKind kind = OpKind::Compute;
  std::optional<TrainingForm> training_form;  // ops that train differently from how they infer
  // The file that registered the op ("ir/ops/conv.cpp"), set by OpRegistry::add: the tests of an op
  // are found by this name (tests/unit/op_coverage.h).
  std::string defined_in;

  // The version of this op in effect in a model of `opset` (the last table entry <= opset), or 0
  // where the op does not exist yet.
  int onnx_version_at(int opset) const;
};

class OpRegistry {
 public:
  static OpRegistry& global();
  // Throws on a duplicate name. `where` is the registering call's file, kept as OpSchema::defined_in
  // (__builtin_FILE, which GCC and clang 14 both have; clang 14 lacks std::source_location).
  void add(OpSchema schema, const char* where = __builtin_FILE());
  const OpSchema* find(std::string_view op, std::string_view domain = "") const;
  std::vector<const OpSchema*> all() const;  // sorted by (domain, name)

 private:
  std::map<std::pair<std::string, std::string>, OpSchema> schemas_;
};

// The kind of `n` (OpSchema::kind); a horizontal fusion (fc.HorizontalFused) has the kind of the op
// it repeats (its `ops` attribute), an op without a record Compute.
OpKind op_kind(const Node& n);
// The gradient an optimizer update reads (input kUpdateGradientInput). Throws unless n is an update.
Value*& update_gradient(Node& n);


struct OpRegistrar {
  explicit OpRegistrar(OpSchema s, const char* where = __builtin_FILE()) {
    OpRegistry::global().add(std::move(s), where);
  }
};

#define FC_CONCAT_INNER(a, b) a##b
#define FC_CONCAT(a, b) FC_CONCAT_INNER(a, b)
// Registers an op at static-initialisation time: FC_REGISTER_OP(OpSchema{...});
#define FC_REGISTER_OP(...) static ::fc::ir::OpRegistrar FC_CONCAT(fc_op_registrar_, __LINE__)(__VA_ARGS__)

// Runs the op's shape function for `node` with the given input types/values; validates input and
// output counts and throws fc::Error naming the node on any mismatch.
std::vector<TensorType> infer_output_types(const Node& node, const std::vector<TensorType>& inputs,
                                           const std::vector<const Tensor*>& values);
OpCost op_cost(const Node& node, const std::vector<TensorType>& inputs, const std::vector<const Tensor*>& values,
               const std::vector<TensorType>& outputs);

// Sets the output types of `n`, a node of `g`, from its op's shape function (the values of
// parameter inputs are passed as known values).
void infer_node_types(const Graph& g, Node& n);
// Re-infers every node's output types in order.
void infer_graph_types(Graph& g);
// Adds a node of `domain`.`op` named after `name` (made unique) with inferred output types: how
// passes add nodes.
Node* add_node_inferred(Graph& g, const std::string& op, const std::string& domain, std::vector<Value*> inputs,
                        std::vector<Value*> outputs, std::map<std::string, Attribute> attrs, const std::string& name);

}  // namespace fc::ir
