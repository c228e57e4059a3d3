// Helpers for the elementwise / reduction / softmax op tests: seeded inputs, a naive multi-index
// walker used by the reference loops, elementwise comparison against float64 references, and
// symbolic-shape inference of a one-node graph.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "ir/tensor.h"

namespace fc::test::math {

inline ir::Tensor random_f32(const std::vector<int64_t>& dims, uint32_t seed, float lo = -3.0f, float hi = 3.0f) {
  std::mt19937 rng(seed);
  ir::Tensor t(ir::DType::F32, dims);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// A bool tensor (Tensor::from_vector cannot take std::vector<bool>).
inline ir::Tensor bools(const std::vector<int64_t>& dims, std::initializer_list<bool> v) {
  ir::Tensor t(ir::DType::Bool, dims);
  FC_ASSERT(v.size() == t.numel());
  std::copy(v.begin(), v.end(), t.data<bool>());
  return t;
}

inline int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

// Row-major multi-index of flat index i.
inline std::vector<int64_t> unravel(int64_t i, const std::vector<int64_t>& dims) {
  std::vector<int64_t> idx(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    idx[d] = i % dims[d];
    i /= dims[d];
  }
  return idx;
}

// Flat index into a tensor of `dims` (right-aligned against the output index, size-1 dims broadcast).
inline int64_t broadcast_index(const std::vector<int64_t>& out_idx, const std::vector<int64_t>& dims) {
  int64_t flat = 0;
  const size_t off = out_idx.size() - dims.size();
  for (size_t d = 0; d < dims.size(); ++d) flat = flat * dims[d] + (dims[d] == 1 ? 0 : out_idx[d + off]);
  return flat;
}

// Every element within abs_tol + rel_tol * |want| (NaN must match NaN, infinities must match).
template <typename T>
void expect_values(const ir::Tensor& got, const std::vector<int64_t>& dims, const std::vector<double>& want,
                   double rel_tol = 2e-7, double abs_tol = 1e-30) {
  ASSERT_EQ(got.dims(), dims);
  ASSERT_EQ(got.numel(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = static_cast<double>(got.data<T>()[i]);
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(g)) << "element " << i << ": got " << g << ", want NaN";
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(g, want[i]) << "element " << i;
    } else {
      EXPECT_LE(std::abs(g - want[i]), abs_tol + rel_tol * std::abs(want[i]))
          << "element " << i << ": got " << g << ", want " << want[i];
    }
  }
}

// Types the op's shape function gives a one-node graph whose inputs have `types`.
inline std::vector<ir::TensorType> infer_types(const std::string& op, const std::vector<ir::TensorType>& types,
                                               std::map<std::string, ir::Attribute> attrs = {}, int num_outputs = 1) {
  ir::Graph g;
  std::vector<ir::Value*> ins, outs;
  for (size_t i = 0; i < types.size(); ++i) {
    ins.push_back(g.add_value("in" + std::to_string(i), types[i]));
    g.inputs.push_back(ins.back());
  }
  for (int i = 0; i < num_outputs; ++i) outs.push_back(g.add_value("out" + std::to_string(i), {}));
  g.add_node(op, ins, outs, std::move(attrs), "test_" + op);
  g.outputs = outs;
  ir::infer_graph_types(g);
  std::vector<ir::TensorType> r;
  for (ir::Value* o : outs) r.push_back(o->type);
  return r;
}

inline ir::TensorType f32(std::vector<ir::Dim> dims) { return ir::TensorType(ir::DType::F32, std::move(dims)); }
inline ir::Dim N() { return ir::Dim::sym("N"); }
inline ir::Dim K(int64_t n) { return ir::Dim::known(n); }

}  // namespace fc::test::math
