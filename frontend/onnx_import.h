// ONNX -> IR import (opsets 7 to 21 of the default domain; each op's version table is in its
// record, ir/ops/). Loads the model with the onnx library (external data only from files inside the
// model's folder), runs the ONNX checker where the library knows the opset, normalises every node
// into the IR's one form per op (docs/ir_conventions.md), folds shape computations (Shape/Gather/
// Concat/... chains) into attributes with a symbolic batch, removes what only served them, and
// infers IR types with our own shape functions, checking them against the shapes the file
// declares. Implementation: frontend/onnx_*.cpp, frontend/shape_folding.cpp.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace fc::frontend {

struct ImportOptions {
  std::string batch_symbol = "N";  // name given to the (symbolic or first) batch dimension of data inputs
  bool symbolic_batch = true;      // treat dim 0 of the (first) data input as the batch, even if fixed in the file
  // Values of graph inputs to specialise on (`fcrun infer`): such an input takes the tensor's type,
  // and its contents are known at import, so a shape-like input (a Reshape shape, Slice starts,
  // Clip bounds, ...) becomes an attribute as an initializer would. A different value later means a
  // new import, never a wrong answer.
  std::map<std::string, ir::Tensor> bound_inputs;
  // Types of graph inputs to specialise on (`fcrun infer` passes those of the tensors it is given;
  // key "" = the only data input): they replace the declared dims, and shape computations over them
  // fold to constants. Rank and element type must be the declared ones.
  std::map<std::string, ir::TensorType> given_types;
  // The element types of sequence-typed graph inputs (`fcrun infer` passes those of the tensors of
  // the SequenceProto it is given): such an input S becomes the tensor inputs S[0], S[1], ...
  // (sequence_element_name). A sequence input not given here is an error naming it.
  std::map<std::string, std::vector<ir::TensorType>> sequence_inputs;
};

// Sequences exist only at import (onnx_sequences.cpp): a sequence-typed graph input or output S is,
// in the IR, the tensors "S[0]", "S[1]", ... in order (an output's as Identity nodes of its
// elements). `fcrun infer` feeds and writes them as one ONNX SequenceProto.
std::string sequence_element_name(const std::string& sequence, size_t index);
// The tensors of graph output sequence `sequence` of `g` (S[0], S[1], ... up to the first missing),
// in order; empty where `g` has no such outputs.
std::vector<const ir::Value*> sequence_outputs(const ir::Graph& g, const std::string& sequence);

// ONNX ops read without a registry entry of their own: the importer rewrites them into the
// registry's ops (CastLike into Cast, SoftmaxCrossEntropyLoss into fc.SoftmaxCrossEntropy) or
// resolves them (the sequence ops: onnx_sequences.cpp).
std::vector<std::string> ops_rewritten_at_import();

// Throws fc::Error with a one-line message naming the file and, where relevant, the node, op type
// and opset (unsupported op, corrupt or truncated file, external data escaping the model folder).
ir::Graph import_onnx(const std::string& path, const ImportOptions& options = {});

}  // namespace fc::frontend
