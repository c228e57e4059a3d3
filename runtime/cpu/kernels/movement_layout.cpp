// CPU kernels for Transpose, Slice, Pad, Concat, Split, Expand and Tile, any element type. Each one
// only describes its copy as strided boxes (movement_common.h); strided_copy does the moving.
#include <algorithm>

#include "support/error.h"
#include "ir/ops/movement.h"
#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/movement_common.h"

namespace fc::runtime::cpu {
namespace {

using Ins = std::vector<const Tensor*>;
using Outs = std::vector<Tensor>;
using ir::strides_of;

const std::byte* elem_ptr(const Tensor& t, int64_t offset) {
  return static_cast<const std::byte*>(t.raw()) + offset * static_cast<int64_t>(ir::dtype_size(t.dtype()));
}
std::byte* elem_ptr(Tensor& t, int64_t offset) {
  return static_cast<std::byte*>(t.raw()) + offset * static_cast<int64_t>(ir::dtype_size(t.dtype()));
}

// Copies `box` from x (starting at element src_offset) into y (starting at dst_offset).
void copy_box(const Tensor& x, int64_t src_offset, Tensor& y, int64_t dst_offset, const StridedBox& box) {
  if (ir::product(box.dims) == 0) return;  // offsets may point one past the end
  strided_copy(elem_ptr(x, src_offset), elem_ptr(y, dst_offset), ir::dtype_size(x.dtype()), box);
}

// y[i0, i1, ...] = x[i_perm0, i_perm1, ...]   x: [d0, d1, ...], y: [d_perm0, d_perm1, ...]
void transpose(const KernelSpec& s, const Ins& in, Outs& out) {
  const Tensor& x = *in[0];
  const std::vector<int64_t> perm = transpose_perm(s.node, static_cast<int64_t>(x.rank()));
  const std::vector<int64_t> xs = strides_of(x.dims());
  StridedBox box{out[0].dims(), {}, strides_of(out[0].dims())};
  for (int64_t p : perm) box.src_strides.push_back(xs[p]);
  copy_box(x, 0, out[0], 0, box);
}

// y[k0, k1, ...] = x[first0 + k0 * step0, first1 + k1 * step1, ...]
void slice(const KernelSpec& s, const Ins& in, Outs& out) {
  const Tensor& x = *in[0];
  const std::vector<ir::SliceRange> ranges = ir::slice_ranges(s.node, static_cast<int64_t>(x.rank()));
  const std::vector<int64_t> xs = strides_of(x.dims());
  StridedBox box{{}, {}, strides_of(out[0].dims())};
  int64_t offset = 0;
  for (size_t i = 0; i < x.rank(); ++i) {
    const ir::SliceAxis a = ir::resolve_slice(ranges[i], x.dim(i));
    box.dims.push_back(a.count);
    box.src_strides.push_back(xs[i] * a.step);
    offset += a.first * xs[i];
  }
  copy_box(x, offset, out[0], 0, box);
}

// Fills every element of y with `value` converted to y's element type.
void fill(const ir::Node& node, Tensor& y, float value) {
  dispatch_any_dtype(y.dtype(), node, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    std::fill_n(y.data<T>(), y.numel(), convert_element<T>(value));
  });
}

// Index into the kept (cropped) input extent n for output position p relative to where the input
// starts: edge clamps, reflect mirrors without repeating the border (period 2(n - 1)), wrap repeats
// the kept extent (period n, numpy's "wrap": the data as a torus).
int64_t border_source(const std::string& mode, int64_t p, int64_t n) {
  if (mode == "wrap") return ((p % n) + n) % n;
  if (mode != "reflect" || n == 1) return std::clamp<int64_t>(p, 0, n - 1);
  const int64_t period = 2 * (n - 1);
  int64_t m = p % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

// x: [d0, ...] cropped by negative pads, then padded by positive ones: y: [d0 + b0 + e0, ...].
// The kept part of x is copied into place; constant mode fills y first, edge, reflect and wrap fill the
// borders afterwards from y itself, one axis at a time from the last: when axis a is filled, the
// borders of the axes after it are already complete, so whole hyperplanes can be copied.
void pad(const KernelSpec& s, const Ins& in, Outs& out) {
  const Tensor& x = *in[0];
  Tensor& y = out[0];
  const int64_t r = static_cast<int64_t>(x.rank());
  const std::vector<int64_t> pads = ir::pad_amounts(s.node, r);
  const std::string& mode = s.node.attr_string("mode");
  const std::vector<int64_t> xs = strides_of(x.dims()), ys = strides_of(y.dims());
  std::vector<int64_t> kept(r), at(r);  // kept extent per axis, and where it starts in y
  StridedBox interior{{}, xs, ys};
  int64_t src_offset = 0, dst_offset = 0;
  for (int64_t i = 0; i < r; ++i) {
    kept[i] = x.dim(i) + std::min<int64_t>(pads[i], 0) + std::min<int64_t>(pads[i + r], 0);
    at[i] = std::max<int64_t>(pads[i], 0);
    interior.dims.push_back(kept[i]);
    src_offset += std::max<int64_t>(-pads[i], 0) * xs[i];
    dst_offset += at[i] * ys[i];
  }
  if (mode == "constant") fill(s.node, y, s.node.attr_float("value"));
  copy_box(x, src_offset, y, dst_offset, interior);
  if (mode == "constant") return;
  for (int64_t a = r; a-- > 0;) {
    if (y.dim(a) == kept[a]) continue;
    FC_CHECK(kept[a] > 0, s.node.describe(), ": ", mode, " padding of an empty axis ", a);
    // A hyperplane at one position along a: the kept range on earlier axes, everything on later ones.
    StridedBox plane{{}, ys, ys};
    int64_t base = 0;
    for (int64_t i = 0; i < r; ++i) {
      plane.dims.push_back(i < a ? kept[i] : i == a ? 1 : y.dim(i));
      if (i < a) base += at[i] * ys[i];
    }
    for (int64_t p = 0; p < y.dim(a); ++p) {
      if (p >= at[a] && p < at[a] + kept[a]) continue;
      const int64_t from = at[a] + border_source(mode, p - at[a], kept[a]);
      copy_box(y, base + from * ys[a], y, base + p * ys[a], plane);
    }
  }
}

// y = [x0, x1, ...] along axis: input i lands at the sum of the earlier inputs' sizes on axis.
void concat(const KernelSpec& s, const Ins& in, Outs& out) {
  Tensor& y = out[0];
  const int64_t axis = ir::normalize_axis(s.node.attr_int("axis"), static_cast<int64_t>(y.rank()), s.node.describe());
  const std::vector<int64_t> ys = strides_of(y.dims());
  int64_t at = 0;
  for (const Tensor* x : in) {
    copy_box(*x, 0, y, at * ys[axis], StridedBox{x->dims(), strides_of(x->dims()), ys});
    at += x->dim(axis);
  }
}

// Output k is x's range [sum of earlier sizes, + size_k) along axis.
void split(const KernelSpec& s, const Ins& in, Outs& out) {
  const Tensor& x = *in[0];
  const int64_t axis = ir::normalize_axis(s.node.attr_int("axis"), static_cast<int64_t>(x.rank()), s.node.describe());
  const std::vector<int64_t> xs = strides_of(x.dims());
  int64_t at = 0;
  for (Tensor& y : out) {
    copy_box(x, at * xs[axis], y, 0, StridedBox{y.dims(), xs, strides_of(y.dims())});
    at += y.dim(axis);
  }
}

// y = x broadcast to y's shape: x's dims are right-aligned, and size-1 dims get stride 0.
void expand(const KernelSpec&, const Ins& in, Outs& out) {
  const Tensor& x = *in[0];
  Tensor& y = out[0];
  const std::vector<int64_t> xs = strides_of(x.dims());
  const size_t lead = y.rank() - x.rank();
  StridedBox box{y.dims(), std::vector<int64_t>(y.rank(), 0), strides_of(y.dims())};
  for (size_t i = 0; i < x.rank(); ++i)
    if (x.dim(i) != 1) box.src_strides[lead + i] = xs[i];
  copy_box(x, 0, y, 0, box);
}

// y: [r0 * d0, r1 * d1, ...] seen as [r0, d0, r1, d1, ...]; the repeat dims read x with stride 0.
void tile(const KernelSpec&, const Ins& in, Outs& out) {
  const Tensor& x = *in[0];
  Tensor& y = out[0];
  const std::vector<int64_t> xs = strides_of(x.dims()), ys = strides_of(y.dims());
  StridedBox box;
  for (size_t i = 0; i < x.rank(); ++i) {
    const int64_t d = x.dim(i), reps = d == 0 ? 0 : y.dim(i) / d;
    box.dims.insert(box.dims.end(), {reps, d});
    box.src_strides.insert(box.src_strides.end(), {0, xs[i]});
    box.dst_strides.insert(box.dst_strides.end(), {d * ys[i], ys[i]});
  }
  copy_box(x, 0, y, 0, box);
}

}  // namespace

FC_REGISTER_CPU_FN("Transpose", transpose);
FC_REGISTER_CPU_FN("Slice", slice);
FC_REGISTER_CPU_FN("Pad", pad);
FC_REGISTER_CPU_FN("Concat", concat);
FC_REGISTER_CPU_FN("Split", split);
FC_REGISTER_CPU_FN("Expand", expand);
FC_REGISTER_CPU_FN("Tile", tile);

}  // namespace fc::runtime::cpu
