// Reading and writing NumPy .npy files (format versions 1.0-3.0, little-endian, C order) for the
// element types the runtime moves: float32, float64, int64, int32, uint8, bool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace fc::runtime {

ir::Tensor load_npy(const std::string& path);       // throws fc::Error naming the file
void save_npy(const std::string& path, const ir::Tensor& t);

// The header of a .npy file, for readers that map the data themselves (token files, whose uint16
// has no tensor type here): the element type as numpy writes it ("<f4", "<u2", ...), the shape (C
// order) and where the data start. Throws fc::Error naming the file.
struct NpyHeader {
  std::string descr;
  std::vector<int64_t> dims;
  size_t data_offset = 0;
};
NpyHeader read_npy_header(const std::string& path);

}  // namespace fc::runtime
