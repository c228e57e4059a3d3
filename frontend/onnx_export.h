// IR values -> ONNX: the trained model comes back out as ONNX that other tools load.
#pragma once

#include <map>
#include <string>

#include "ir/tensor.h"

namespace fc::frontend {

// Writes `source_onnx` (the model as the user gave it) to `out_path` in inference form with every
// initializer named in `values` replaced by that value: BatchNormalization in inference mode
// (training_mode=0, running-statistics outputs removed), Dropout without its training_mode input.
// Written atomically (temporary file, rename). Throws fc::Error naming the file.
void export_trained_onnx(const std::string& source_onnx, const std::map<std::string, ir::Tensor>& values,
                         const std::string& out_path);

}  // namespace fc::frontend
