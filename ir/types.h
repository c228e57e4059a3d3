// Static types of IR values: element type plus a shape whose dimensions are either known sizes or
// named symbols (the batch dimension, "N"). A dimension with neither is unknown ("?").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/dtype.h"

namespace fc::ir {

struct Dim {
  int64_t size = -1;   // >= 0 when known
  std::string symbol;  // non-empty for a symbolic dimension (size is then -1)

  static Dim known(int64_t n) { return Dim{n, {}}; }
  static Dim sym(std::string s) { return Dim{-1, std::move(s)}; }
  static Dim unknown() { return Dim{}; }
  bool is_known() const { return size >= 0; }
  bool operator==(const Dim&) const = default;
};

struct TensorType {
  DType dtype = DType::Undefined;
  std::vector<Dim> dims;

  TensorType() = default;
  TensorType(DType t, std::vector<Dim> d) : dtype(t), dims(std::move(d)) {}
  static TensorType concrete(DType t, const std::vector<int64_t>& sizes);

  size_t rank() const { return dims.size(); }
  bool is_concrete() const;             // every dimension known
  std::vector<int64_t> sizes() const;   // requires is_concrete()
  int64_t numel() const;                // requires is_concrete()
  bool operator==(const TensorType&) const = default;
};

std::string to_string(const Dim& d);
std::string to_string(const TensorType& t);  // "f32[N,3,224,224]"

// Normalises a possibly negative axis against `rank`; throws fc::Error (mentioning `what`) when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& what);

}  // namespace fc::ir
