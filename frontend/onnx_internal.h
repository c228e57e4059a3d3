// Private to frontend/*.cpp (it includes the onnx library's headers, which must not leak into other
// folders): the pieces of the ONNX importer and the state they share.
//
//   onnx_load.cpp      file -> ModelProto, external-data paths, checker
//   onnx_tensor.cpp    TensorProto / TypeProto / AttributeProto -> ir::Tensor / TensorType / Attribute
//   onnx_normalize.cpp one ONNX node -> IR nodes in canonical form (docs/ir_conventions.md)
//   onnx_sequences.cpp ONNX sequence values, resolved at import into lists of tensors
//   shape_folding.cpp  symbolic evaluation of shape chains (no ONNX types)
//   onnx_import.cpp    the driver
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "frontend/onnx_import.h"
#include "frontend/shape_folding.h"
#include "ir/graph.h"

namespace fc::frontend::detail {

// ---- onnx_load.cpp ----

struct LoadedModel {
  onnx::ModelProto model;
  std::string path;  // as given by the user, for messages
  int opset = 0;     // default-domain opset
  std::unordered_map<std::string, int> domain_opsets;
};

// Parses the file; validates external-data references (rewriting each `location` to the checked
// absolute path so that later readers and the ONNX checker need no working directory); runs the
// ONNX checker where the library knows the opset. Throws one-line fc::Errors naming `path`.
// `before_checker` runs before the checker (the importer reports unsupported ops and opsets there,
// before the checker's less helpful message for unknown ops).
LoadedModel load_model(const std::string& path, const std::function<void(const LoadedModel&)>& before_checker);
// The newest default-domain opset the linked onnx library knows (Debian's 1.12: 17).
int onnx_library_newest_opset();

// ---- onnx_tensor.cpp ----

// The IR dtype of an ONNX TensorProto.DataType, or Undefined when the IR has no such type.
// TensorProto.DataType values newer than the onnx library we build against (1.12).
inline constexpr int32_t kOnnxFloat8E4M3FN = 17, kOnnxFloat8E4M3FNUZ = 18, kOnnxFloat8E5M2 = 19,
                         kOnnxFloat8E5M2FNUZ = 20, kOnnxUInt4 = 21, kOnnxInt4 = 22, kOnnxMaxDataType = 22;
ir::DType dtype_from_onnx(int32_t onnx_type);
std::string onnx_type_name(int32_t onnx_type);  // "FLOAT16", ... for messages

// Converts an initializer or attribute tensor (raw_data, typed fields, or external data whose
// location load_model made absolute). `what` names the tensor in errors.
ir::Tensor tensor_from_onnx(const onnx::TensorProto& t, const std::string& what);

// The value's declared type; dims without value or param are unknown. Undefined dtype when the
// type is missing, not a tensor, or of an element type the IR lacks.
ir::TensorType type_from_onnx(const onnx::TypeProto& t);

// AttributeProto -> ir::Attribute (graphs and sparse tensors are rejected, naming `node_desc`).
ir::Attribute attribute_from_onnx(const onnx::AttributeProto& a, const std::string& node_desc);

// ---- onnx_normalize.cpp ----

// An IR node ready to be added: outputs are value names (created by the driver).
struct PendingNode {
  std::string op;
  std::string name;
  std::vector<ir::Value*> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, ir::Attribute> attrs;
  std::string domain = "";  // ONNX, unless a rule normalises the node into one of our ops ("fc")
};

// Driver state that normalisation rules consult.
class ImportState {
 public:
  ImportState(ir::Graph& g, const LoadedModel& m, const ImportOptions& options) : g(g), model(m), options(options) {}

  ir::Graph& g;
  const LoadedModel& model;
  const ImportOptions& options;

  // Compile-time contents of a value (parameter, Constant, folded shape chain), or null.
  const SymTensor* known(const std::string& value_name);
  void set_known(const std::string& value_name, SymTensor t) { known_[value_name] = std::move(t); }
  // A value name that collides with nothing in the ONNX graph or the IR graph.
  std::string fresh_value_name(const std::string& base);
  std::string unique_node_name(const std::string& base);
  void reserve_value_name(const std::string& n) { reserved_.insert(n); }
  std::string where() const { return model.path; }
  // The tensor values an ONNX sequence value holds (onnx_sequences.cpp), or null: not a sequence.
  const std::vector<std::string>* sequence(const std::string& value_name) const {
    auto it = sequences_.find(value_name);
    return it == sequences_.end() ? nullptr : &it->second;
  }
  void set_sequence(const std::string& value_name, std::vector<std::string> elements) {
    sequences_[value_name] = std::move(elements);
  }

 private:
  std::unordered_map<std::string, SymTensor> known_;
  std::unordered_map<std::string, std::vector<std::string>> sequences_;
  std::unordered_set<std::string> reserved_;
  std::unordered_set<std::string> node_names_;
};

// Normalises one ONNX node (with `name` already made unique) into one or more IR nodes, whose
// inputs refer to already-defined values. Configuration inputs must have known contents.
// ONNX ops that have no registry entry of their own because the importer rewrites them into other
// ops (SoftmaxCrossEntropyLoss -> fc.SoftmaxCrossEntropy, CastLike -> Cast, the sequence ops), at
// the model's opset.
bool rewritten_at_import(const std::string& op, int opset);

// Adds a node to the graph (creating its output values) and types it; the driver's.
using AddPendingNode = std::function<ir::Node*(PendingNode)>;

// A rule that expands a node into a graph of several nodes adds them itself through `add` (and
// returns none); the others return their nodes for the driver to add in order.
std::vector<PendingNode> normalize_node(const onnx::NodeProto& node, const std::string& name,
                                        const std::vector<ir::Value*>& inputs, ImportState& st,
                                        const AddPendingNode& add);

// ---- onnx_sequences.cpp ----

// Whether `op` is one of the sequence ops at `opset` (lower_sequence_node handles them all).
bool is_sequence_op(const std::string& op, int opset);
std::vector<std::string> sequence_ops();
// Resolves one sequence node: a node making a sequence records its elements in `st`; one reading a
// sequence adds the tensor nodes that read its elements through `add`.
void lower_sequence_node(const onnx::NodeProto& node, const std::string& name, ImportState& st,
                         const AddPendingNode& add);

}  // namespace fc::frontend::detail

// ---- Plans (frontend/plan_io.cpp) need the importer on models already in memory, and the way back
// from IR data to ONNX. ----
namespace fc::frontend::detail {

// onnx_load.cpp: load_model in steps. parse_model_file only parses (a one-line error naming `path`
// unless the file is an ONNX model); resolve_external_data checks and makes absolute every
// external-data location against `path`'s folder; load_parsed_model does the rest of load_model.
void parse_model_file(const std::string& path, onnx::ModelProto& model);
void resolve_external_data(onnx::ModelProto& model, const std::string& path);
LoadedModel load_parsed_model(onnx::ModelProto model, const std::string& path,
                              const std::function<void(const LoadedModel&)>& before_checker);

// onnx_import.cpp: import_onnx on a parsed model; messages name `path` as import_onnx's do.
ir::Graph import_model(onnx::ModelProto model, const std::string& path, const ImportOptions& options = {});

// onnx_write.cpp: IR -> ONNX, exact inverses of the conversions in onnx_tensor.cpp.
int32_t dtype_to_onnx(ir::DType t);  // throws on Undefined
onnx::TensorProto tensor_to_onnx(const ir::Tensor& t, const std::string& name);  // raw_data
onnx::AttributeProto attribute_to_onnx(const std::string& name, const ir::Attribute& a);
// Known dims as dim_value, symbols as dim_param, unknown dims with neither; an Undefined dtype is
// written as elem_type UNDEFINED (type_from_onnx then yields an undefined type).
onnx::TypeProto type_to_onnx(const ir::TensorType& t);
// Replaces every external-data tensor of `g` (initializers, attribute tensors, subgraphs) by its
// bytes in raw_data; locations must have been resolved (resolve_external_data).
void inline_external_data(onnx::GraphProto& g);

// plan_io.cpp: removes what a plan adds to the user's model (training_info, fc.* metadata, the
// project opset imports, a raised ir_version). A plain model is left unchanged.
void strip_plan_additions(onnx::ModelProto& m);

}  // namespace fc::frontend::detail
