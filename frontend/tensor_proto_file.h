// One tensor as a file holding a serialised ONNX TensorProto (`.pb`, the form of ONNX's own test
// data), which can hold every element type we have, bfloat16 included (numpy's .npy cannot).
#pragma once

#include <string>

#include "ir/tensor.h"

namespace fc::frontend {

// Throws fc::Error naming the file (unreadable, not a TensorProto, unsupported element type, ...).
ir::Tensor load_tensor_proto(const std::string& path);
// Written atomically (the old file stays whole if writing fails).
void save_tensor_proto(const std::string& path, const ir::Tensor& t);

}  // namespace fc::frontend
