// Attribute resolution shared by the data-movement op records (ir/ops/movement_*.cpp) and their CPU
// kernels (runtime/cpu/kernels/movement_*.cpp): one reading of Transpose perms, Slice ranges, Pad
// amounts and Split sizes, so that the shape function and the kernel cannot disagree.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ir/graph.h"
#include "ir/op_registry.h"

namespace fc::ir {

// Product of dims[begin, end): a known size when every dim is known; the one non-known dim itself
// when all others are known 1s (so a symbol such as N survives [N,1] -> N); else unknown.
Dim dim_product(const std::vector<Dim>& dims, size_t begin, size_t end);

// Transpose's `perm` (absent: reversed axes), validated as a permutation of 0..rank-1.
std::vector<int64_t> transpose_perm(const Node& node, int64_t rank);

// One dimension of a Slice node, as written (every dimension gets one: unlisted axes take the whole
// range). `whole` marks the identity range [0, INT64_MAX) with step 1.
struct SliceRange {
  int64_t start = 0, end = INT64_MAX, step = 1;
  bool whole() const { return start == 0 && end == INT64_MAX && step == 1; }
};
std::vector<SliceRange> slice_ranges(const Node& node, int64_t rank);

// A SliceRange applied to a dimension of size `dim` (ONNX clamping): the first index taken, the
// step, and how many elements are taken.
struct SliceAxis {
  int64_t first = 0, step = 1, count = 0;
};
SliceAxis resolve_slice(const SliceRange& r, int64_t dim);

// Pad's `pads` ([x1_begin, x2_begin, ..., x1_end, ...]) validated against `rank`; negative pads crop.
std::vector<int64_t> pad_amounts(const Node& node, int64_t rank);

// Split's part sizes along a dimension of size `dim` (attribute `split`, or equal parts).
std::vector<int64_t> split_sizes(const Node& node, int64_t dim, size_t parts);

// Shape's [start, end) over the dims of a rank-`rank` input, after ONNX clamping (end >= start).
std::pair<int64_t, int64_t> shape_op_bounds(const Node& node, int64_t rank);

// Number of elements Range(start, limit, delta) produces: max(ceil((limit - start) / delta), 0).
// The three tensors are scalars of one type (f32, f64, i64 or i32).
int64_t range_length(const Node& node, const Tensor& start, const Tensor& limit, const Tensor& delta);

// Cast's target element type (attribute `to`, an IR dtype name).
DType cast_target(const Node& node);

// Gradient helper: `v` (same element count as `like`) reshaped to like's type. Known dims are
// spelled out and the one non-known dim (if any, e.g. the batch N) becomes -1; throws fc::Error
// naming the node when like has more than one non-known dim.
Value* reshape_like(GradBuilder& b, Value* v, const Value* like);

// Cost of pure data movement: no flops, input and output bytes.
OpCost movement_cost(const InferContext& ctx, const std::vector<TensorType>& outputs);
// Cost of a view (shares its input's storage): nothing.
OpCost view_cost(const InferContext& ctx, const std::vector<TensorType>& outputs);

}  // namespace fc::ir
