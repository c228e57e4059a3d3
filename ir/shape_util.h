// Shape helpers shared by the shape functions of many ops.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/types.h"

namespace fc::ir {

// Numpy-style multidirectional broadcasting of two shapes (symbolic dims broadcast with 1 or the
// same symbol). Throws fc::Error mentioning `what` when incompatible.
std::vector<Dim> broadcast_dims(const std::vector<Dim>& a, const std::vector<Dim>& b, const std::string& what);
std::vector<int64_t> broadcast_sizes(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// Row-major strides of a shape.
std::vector<int64_t> strides_of(const std::vector<int64_t>& dims);
int64_t product(const std::vector<int64_t>& dims, size_t begin = 0, size_t end = SIZE_MAX);

}  // namespace fc::ir
