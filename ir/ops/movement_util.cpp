// Shared attribute resolution for the data-movement ops (see ir/ops/movement.h).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "support/error.h"
#include "ir/ops/movement.h"

namespace fc::ir {

Dim dim_product(const std::vector<Dim>& dims, size_t begin, size_t end) {
  int64_t known = 1;
  const Dim* open = nullptr;
  int open_count = 0;
  for (size_t i = begin; i < end && i < dims.size(); ++i) {
    if (dims[i].is_known()) {
      known *= dims[i].size;
    } else {
      open = &dims[i];
      ++open_count;
    }
  }
  if (open_count == 0) return Dim::known(known);
  if (known == 0) return Dim::known(0);
  if (open_count == 1 && known == 1) return *open;
  return Dim::unknown();
}

std::vector<int64_t> transpose_perm(const Node& node, int64_t rank) {
  std::vector<int64_t> perm;
  if (node.has_attr("perm")) {
    perm = node.attr_ints("perm");
    FC_CHECK(static_cast<int64_t>(perm.size()) == rank, node.describe(), ": perm has ", perm.size(),
             " entries for an input of rank ", rank);
  } else {
    perm.resize(rank);
    for (int64_t i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
  }
  std::vector<bool> seen(rank, false);
  for (int64_t& p : perm) {
    p = normalize_axis(p, rank, node.describe());
    FC_CHECK(!seen[p], node.describe(), ": perm lists axis ", p, " twice");
    seen[p] = true;
  }
  return perm;
}

std::vector<SliceRange> slice_ranges(const Node& node, int64_t rank) {
  const std::vector<int64_t>& starts = node.attr_ints("starts");
  const std::vector<int64_t>& ends = node.attr_ints("ends");
  FC_CHECK(starts.size() == ends.size(), node.describe(), ": starts has ", starts.size(), " entries, ends ",
           ends.size());
  std::vector<int64_t> axes(starts.size()), steps(starts.size(), 1);
  std::iota(axes.begin(), axes.end(), 0);
  if (node.has_attr("axes")) axes = node.attr_ints("axes");
  if (node.has_attr("steps")) steps = node.attr_ints("steps");
  FC_CHECK(axes.size() == starts.size() && steps.size() == starts.size(), node.describe(),
           ": starts, ends, axes and steps must have the same length");
  std::vector<SliceRange> r(rank);
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t a = normalize_axis(axes[i], rank, node.describe());
    FC_CHECK(!seen[a], node.describe(), ": axis ", axes[i], " is sliced twice");
    FC_CHECK(steps[i] != 0, node.describe(), ": slice step must not be 0");
    seen[a] = true;
    r[a] = SliceRange{starts[i], ends[i], steps[i]};
  }
  return r;
}

SliceAxis resolve_slice(const SliceRange& r, int64_t dim) {
  if (dim == 0) return SliceAxis{0, r.step, 0};
  // Negative indices count from the end (adding dim cannot overflow: they are negative).
  int64_t start = r.start < 0 ? r.start + dim : r.start;
  int64_t end = r.end < 0 ? r.end + dim : r.end;
  SliceAxis s;
  s.step = r.step;
  if (r.step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    s.count = end > start ? (end - start + r.step - 1) / r.step : 0;
  } else {
    // Negative steps walk down from start (clamped to a valid index) to end (exclusive, down to -1).
    // This is the ONNX spec's clamping; numpy differs only for a start before the first element
    // (it takes nothing, ONNX takes element 0).
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    const int64_t stride = -r.step;
    s.count = start > end ? (start - end + stride - 1) / stride : 0;
  }
  s.first = start;
  return s;
}

std::vector<int64_t> pad_amounts(const Node& node, int64_t rank) {
  const std::vector<int64_t>& pads = node.attr_ints("pads");
  FC_CHECK(static_cast<int64_t>(pads.size()) == 2 * rank, node.describe(), ": pads has ", pads.size(),
           " entries, expected 2 * rank = ", 2 * rank);
  return pads;
}

std::vector<int64_t> split_sizes(const Node& node, int64_t dim, size_t parts) {
  if (node.has_attr("split")) {
    std::vector<int64_t> s = node.attr_ints("split");
    FC_CHECK(s.size() == parts, node.describe(), ": split has ", s.size(), " sizes for ", parts, " outputs");
    int64_t total = 0;
    for (int64_t v : s) {
      FC_CHECK(v >= 0, node.describe(), ": negative split size ", v);
      total += v;
    }
    FC_CHECK(dim < 0 || total == dim, node.describe(), ": split sizes sum to ", total, ", but the axis has ", dim);
    return s;
  }
  FC_CHECK(parts > 0, node.describe(), ": needs at least one output");
  if (dim < 0) return std::vector<int64_t>(parts, -1);
  const int64_t n = static_cast<int64_t>(parts);
  FC_CHECK(dim % n == 0, node.describe(), ": axis of size ", dim, " does not split into ", n, " equal parts");
  return std::vector<int64_t>(parts, dim / n);
}

std::pair<int64_t, int64_t> shape_op_bounds(const Node& node, int64_t rank) {
  auto clamp_index = [rank](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank); };
  const int64_t start = clamp_index(node.attr_int("start"));
  const int64_t end = node.has_attr("end") ? clamp_index(node.attr_int("end")) : rank;
  return {start, std::max(start, end)};
}

int64_t range_length(const Node& node, const Tensor& start, const Tensor& limit, const Tensor& delta) {
  for (const Tensor* t : {&start, &limit, &delta})
    FC_CHECK(t->numel() == 1 && t->dtype() == start.dtype(), node.describe(),
             ": start, limit and delta must be scalars of one type");
  if (start.dtype() == DType::I64 || start.dtype() == DType::I32) {
    const int64_t s = start.to_int64_vector()[0], l = limit.to_int64_vector()[0], d = delta.to_int64_vector()[0];
    FC_CHECK(d != 0, node.describe(), ": delta must not be 0");
    // In 128 bits so that extreme limits cannot overflow the difference.
    const __int128 diff = static_cast<__int128>(l) - s;
    const __int128 n = d > 0 ? (diff + d - 1) / d : (diff + d + 1) / d;
    return n > 0 ? static_cast<int64_t>(n) : 0;
  }
  auto as_double = [&](const Tensor& t) {
    if (t.dtype() == DType::F32) return static_cast<double>(t.data<float>()[0]);
    if (t.dtype() == DType::F64) return t.data<double>()[0];
    fail(node.describe(), ": Range of ", dtype_name(t.dtype()), " is not supported (f32, f64, i64, i32)");
  };
  const double s = as_double(start), l = as_double(limit), d = as_double(delta);
  FC_CHECK(d != 0.0, node.describe(), ": delta must not be 0");
  const double n = std::ceil((l - s) / d);
  FC_CHECK(std::isfinite(n) && n < 9.0e15, node.describe(), ": Range(", s, ", ", l, ", ", d, ") has no finite length");
  return n > 0 ? static_cast<int64_t>(n) : 0;
}

DType cast_target(const Node& node) {
  const std::string& to = node.attr_string("to");
  for (DType t : kAllDTypes)
    if (dtype_name(t) == to) return t;
  fail(node.describe(), ": unknown target type '", to, "'");
}

Value* reshape_like(GradBuilder& b, Value* v, const Value* like) {
  if (v->type == like->type) return v;
  std::vector<int64_t> shape;
  int open = 0;
  for (const Dim& d : like->type.dims) {
    shape.push_back(d.is_known() ? d.size : -1);
    open += d.is_known() ? 0 : 1;
  }
  FC_CHECK(open <= 1, b.node().describe(), ": gradient needs the input shape ", to_string(like->type),
           " with at most one unknown dim");
  return b.emit1("Reshape", {v}, {{"shape", shape}});
}

OpCost movement_cost(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c;
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i) && ctx.in(i).is_concrete()) c.bytes += double(ctx.in(i).numel()) * dtype_size(ctx.in(i).dtype);
  for (const TensorType& t : outputs)
    if (t.is_concrete()) c.bytes += double(t.numel()) * dtype_size(t.dtype);
  return c;
}

OpCost view_cost(const InferContext&, const std::vector<TensorType>&) { return OpCost{}; }

}  // namespace fc::ir
