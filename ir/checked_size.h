// Overflow-checked products of sizes. Element counts, byte counts and batch x sample sizes come from
// files (models, recipes, checkpoints, data); a product past int64 must be an error naming what
// overflowed, not a wrapped size that later allocates too little or asks for 10^19 bytes. Every
// multiplication of such sizes goes through here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ir/dtype.h"

namespace fc::ir {

// a * b for a, b >= 0; throws fc::Error "<what>: a x b elements overflow 64 bits" when it would.
int64_t checked_mul(int64_t a, int64_t b, std::string_view what);
// a + b (sizes and offsets from files, e.g. an axis and its pads); throws fc::Error
// "<what>: a + b overflows 64 bits" when it would.
int64_t checked_add(int64_t a, int64_t b, std::string_view what);
// The product of dims (each >= 0, else an error naming `what`), checked.
int64_t checked_numel(const std::vector<int64_t>& dims, std::string_view what);
// checked_numel times the element size of dtype, checked.
int64_t checked_nbytes(DType dtype, const std::vector<int64_t>& dims, std::string_view what);
// "[2,3,4]"
std::string dims_text(const std::vector<int64_t>& dims);

}  // namespace fc::ir
