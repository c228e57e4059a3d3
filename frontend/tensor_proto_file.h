// One tensor as a file holding a serialised ONNX TensorProto (`.pb`, the form of ONNX's own test
// data), which can hold every element type we have, bfloat16 included (numpy's .npy cannot).
#pragma once

#include <string>
#include <vector>

#include "ir/tensor.h"

namespace fc::frontend {

// Throws fc::Error naming the file (unreadable, not a TensorProto, unsupported element type, ...).
ir::Tensor load_tensor_proto(const std::string& path);
// Written atomically (the old file stays whole if writing fails).
void save_tensor_proto(const std::string& path, const ir::Tensor& t);

// What a .pb file holds, read and parsed once: one tensor (a TensorProto), or the tensors of an ONNX
// SequenceProto of tensors (ONNX's test data for a sequence input or output). Throws fc::Error naming
// the file for a sequence of maps or optionals, or an element type we lack.
struct ProtoValue {
  std::vector<ir::Tensor> tensors;
  bool sequence = false;
};
ProtoValue load_proto_value(const std::string& path);
// Written atomically, as a SequenceProto of tensors named `name`.
void save_sequence_proto(const std::string& path, const std::string& name, const std::vector<ir::Tensor>& tensors);

}  // namespace fc::frontend
