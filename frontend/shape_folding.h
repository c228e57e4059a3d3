// Import-time evaluation of shape computations with symbolic dimensions.
//
// Exporters compute configuration inputs (Reshape targets, Expand shapes, ...) with small chains
// such as Shape -> Gather -> Unsqueeze -> Concat. The importer evaluates these chains over
// SymTensors: small integer tensors whose elements are SymElems (a known integer, a named symbol
// such as the batch "N", or unknown), so that `x.view(x.size(0), -1)` folds to Reshape {shape =
// [0, -1]} without knowing the batch. Fully known tensors of any dtype (floats included) carry
// their concrete ir::Tensor too. Everything here works on IR nodes that are already normalised
// (configuration inputs are attributes), and is independent of ONNX.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace fc::frontend {

// One element of a shape-like tensor: a known integer (any sign: -1 and 0 are meaningful in Reshape
// targets), a named symbol (a dimension such as "N"), or unknown (neither).
struct SymElem {
  bool is_known = false;
  int64_t value = 0;
  std::string symbol;

  static SymElem known(int64_t v) { return SymElem{true, v, {}}; }
  static SymElem of_dim(const ir::Dim& d) { return d.is_known() ? known(d.size) : SymElem{false, 0, d.symbol}; }
  bool operator==(const SymElem&) const = default;
};
std::string to_string(const SymElem& e);

struct SymTensor {
  ir::DType dtype = ir::DType::Undefined;
  std::vector<int64_t> dims;    // the tensor's own (concrete) shape
  std::vector<SymElem> elems;   // row-major elements; integer and bool dtypes only
  ir::Tensor tensor;            // defined iff every element is known

  bool known() const { return tensor.defined(); }
  bool is_integral() const;
  static SymTensor from_tensor(const ir::Tensor& t);
  // An integer tensor from symbolic elements; fills `tensor` when all are known.
  static SymTensor from_elems(ir::DType dtype, std::vector<int64_t> dims, std::vector<SymElem> elems);
};

// Tensors with more elements than this are never evaluated symbolically (shape tensors are tiny).
inline constexpr size_t kMaxFoldElements = 4096;

// Evaluates one normalised IR node whose outputs are shape-like. `inputs` holds the known input
// contents (null where unknown), `input_types` the input types (Shape needs only its input's type).
// Returns the outputs' contents, or nullopt when the node is not foldable this way.
std::optional<std::vector<SymTensor>> fold_shape_node(const ir::Node& node, const std::vector<const SymTensor*>& inputs,
                                                      const std::vector<ir::TensorType>& input_types);

// Ops fold_shape_node understands (an importer may accept them even if no op schema exists,
// provided they are folded away).
bool is_shape_fold_op(const std::string& op);

// Turns a resolved Reshape target (known sizes, 0 = copy, -1 = infer, symbols/unknowns) into the
// IR's `shape` attribute: a symbol equal to the input's dim at the same position becomes 0 (copy);
// a single remaining symbolic/unknown dim becomes -1 when there is no -1 already. Anything else
// throws fc::Error naming `node_desc`.
std::vector<int64_t> resolve_reshape_target(const std::vector<SymElem>& target, const std::vector<ir::Dim>& input_dims,
                                            const std::string& node_desc);

// The same for Expand, whose target is right-aligned with the input and where 1 keeps the input dim:
// a symbol equal to the aligned input dim becomes 1; any other symbol becomes -1 (a run-time size)
// and is appended to `symbols` when it is given, else throws.
std::vector<int64_t> resolve_expand_target(const std::vector<SymElem>& target, const std::vector<ir::Dim>& input_dims,
                                           const std::string& node_desc, std::vector<std::string>* symbols = nullptr);

}  // namespace fc::frontend
