// Reading and writing NumPy .npy files (format versions 1.0-3.0, little-endian, C order) for the
// element types the runtime moves: float32, float64, int64, int32, uint8, bool.
#pragma once

#include <string>

#include "ir/tensor.h"

namespace fc::runtime {

ir::Tensor load_npy(const std::string& path);       // throws fc::Error naming the file
void save_npy(const std::string& path, const ir::Tensor& t);

}  // namespace fc::runtime
