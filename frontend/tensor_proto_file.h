// One tensor as a file holding a serialised ONNX TensorProto (`.pb`, the form of ONNX's own test
// data), which can hold every element type we have, bfloat16 included (numpy's .npy cannot).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace fc::frontend {

// Throws fc::Error naming the file (unreadable, not a TensorProto, unsupported element type, ...).
ir::Tensor load_tensor_proto(const std::string& path);
// Written atomically (the old file stays whole if writing fails).
void save_tensor_proto(const std::string& path, const ir::Tensor& t);

// The tensors of a file holding an ONNX SequenceProto of tensors (ONNX's test data for a sequence
// input or output), or nullopt where the file holds something else (a TensorProto). Throws fc::Error
// naming the file for a sequence of maps or optionals, or an element type we lack.
std::optional<std::vector<ir::Tensor>> load_sequence_proto(const std::string& path);
// Written atomically, as a SequenceProto of tensors named `name`.
void save_sequence_proto(const std::string& path, const std::string& name, const std::vector<ir::Tensor>& tensors);

}  // namespace fc::frontend
