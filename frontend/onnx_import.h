// ONNX -> IR import. Loads the model with the onnx library (external data only from files inside
// the model's folder), runs the ONNX checker and shape inference, normalises every node into the
// IR's one form per op (see ir/graph.h), folds shape computations into attributes/constants and
// infers IR types with a symbolic batch dimension.
#pragma once

#include <string>

#include "ir/graph.h"

namespace fc::frontend {

struct ImportOptions {
  std::string batch_symbol = "N";  // name given to the (symbolic or first) batch dimension of data inputs
  bool symbolic_batch = true;      // treat dim 0 of every data input as the batch, even if fixed in the file
};

// Throws fc::Error with a one-line message naming the file and, where relevant, the node, op type
// and opset (unsupported op, corrupt or truncated file, external data escaping the model folder).
ir::Graph import_onnx(const std::string& path, const ImportOptions& options = {});

}  // namespace fc::frontend
