// Helpers for the data-movement op tests (ops_movement_*_test.cpp): position-coded inputs (every
// element holds its own flat index, so a wrong source element shows up as a wrong value), shape
// inference on symbolic types, and type strings.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/tensor.h"
#include "op_test_util.h"
#include "ops_math_test_util.h"

namespace fc::test::movement {

using Dims = std::vector<int64_t>;
using Ints = std::vector<int64_t>;
using ir::Attribute;
using ir::DType;
using ir::Dim;
using ir::Tensor;
using ir::TensorType;
using math::infer_types;
using math::numel;
using math::unravel;

// Element i = start + i, in element type T.
template <typename T>
Tensor iota(const Dims& dims, int64_t start = 0) {
  Tensor t(ir::dtype_of<T>(), dims);
  for (size_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(start + static_cast<int64_t>(i));
  return t;
}

// Row-major flat index of a multi-index.
inline int64_t ravel(const Dims& idx, const Dims& dims) {
  int64_t flat = 0;
  for (size_t d = 0; d < dims.size(); ++d) flat = flat * dims[d] + idx[d];
  return flat;
}

// The one output of op on `inputs` (fed as graph inputs).
inline Tensor run1(const std::string& op, const std::vector<Tensor>& inputs, std::map<std::string, Attribute> attrs = {},
                   const char* where = __builtin_FILE()) {
  return run_op(op, inputs, std::move(attrs), 1, {}, 1, where).outputs.at(0);
}

// Type string of the op's single output for symbolic input types ("f32[N,512]").
inline std::string inferred(const std::string& op, const std::vector<TensorType>& types,
                            std::map<std::string, Attribute> attrs = {}) {
  return ir::to_string(infer_types(op, types, std::move(attrs)).at(0));
}

inline TensorType f32(std::vector<Dim> dims) { return TensorType(DType::F32, std::move(dims)); }
inline Dim N() { return Dim::sym("N"); }
inline Dim K(int64_t n) { return Dim::known(n); }

template <typename T>
void expect_tensor(const Tensor& got, const Dims& dims, const std::vector<T>& want) {
  ASSERT_EQ(got.dtype(), ir::dtype_of<T>());
  ASSERT_EQ(got.dims(), dims);
  EXPECT_EQ(values<T>(got), want);
}

}  // namespace fc::test::movement
