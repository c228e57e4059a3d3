// Sliding-window geometry shared by Conv and the pooling ops: reads the ONNX attributes
// (auto_pad, kernel_shape, strides, dilations, pads, ceil_mode) once, and computes output sizes and
// effective padding per spatial axis. The same code serves the shape functions (where a spatial
// size may be symbolic) and the kernels (concrete sizes), so both agree by construction.
//
// Output size of one axis with input size `in`, kernel k, stride s, dilation d, pads pb/pe and
// extent dk = (k - 1) * d + 1:
//   NOTSET, floor mode: floor((in + pb + pe - dk) / s) + 1
//   NOTSET, ceil mode:  ceil((in + pb + pe - dk) / s) + 1, minus one when the last window would start
//                       at or past in + pb (PyTorch's rule: every window starts inside the input or
//                       the left padding)
//   VALID:              floor((in - dk) / s) + 1 with no padding
//   SAME_UPPER/LOWER:   ceil(in / s); total padding max(0, (out - 1) * s + dk - in) split evenly,
//                       the odd element at the end (UPPER) or at the beginning (LOWER)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/types.h"

namespace fc::ir {

struct WindowAttrs {
  std::string auto_pad = "NOTSET";
  std::vector<int64_t> kernel, strides, dilations;
  std::vector<int64_t> pads_begin, pads_end;  // explicit pads (NOTSET only)
  bool ceil_mode = false;

  size_t rank() const { return kernel.size(); }
  int64_t extent(size_t axis) const { return (kernel[axis] - 1) * dilations[axis] + 1; }
};

// Concrete geometry of one spatial axis.
struct AxisWindow {
  int64_t out = 0;
  int64_t pad_begin = 0;
  int64_t pad_end = 0;  // as declared (or as SAME computes it); see dnnl_pad_end()
};

// Reads the window attributes of `node`. `kernel_from_weights` (Conv) supplies the kernel shape
// when the attribute is absent; empty means kernel_shape is required. Validates lengths and values
// (strides, dilations, kernel >= 1; pads >= 0) and throws fc::Error naming the node otherwise.
WindowAttrs read_window_attrs(const Node& node, size_t spatial_rank, const std::vector<int64_t>& kernel_from_weights,
                              bool allow_ceil_mode);

// Geometry of axis `axis` for a concrete input size; throws when the window does not fit.
AxisWindow resolve_axis(const WindowAttrs& w, size_t axis, int64_t in, const Node& node);
// Output dimension for a possibly symbolic input dimension (unknown stays unknown).
Dim output_dim(const WindowAttrs& w, size_t axis, const Dim& in, const Node& node);

// Right padding that makes out == floor((in + pad_begin + pad_end' - extent) / s) + 1 hold exactly,
// as oneDNN requires: the declared pad_end, grown when ceil mode adds a partial last window.
int64_t dnnl_pad_end(const WindowAttrs& w, size_t axis, int64_t in, const AxisWindow& a);

}  // namespace fc::ir
