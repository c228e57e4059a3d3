// Sliding-window geometry for Conv and pooling (see window.h for the formulas).
#include "ir/ops/window.h"

#include <algorithm>

#include "support/error.h"

namespace fc::ir {
namespace {

std::vector<int64_t> ints_or(const Node& node, const char* key, size_t n, int64_t fill) {
  if (!node.has_attr(key)) return std::vector<int64_t>(n, fill);
  std::vector<int64_t> v = node.attr_ints(key);
  FC_CHECK(v.size() == n, node.describe(), ": attribute '", key, "' has ", v.size(), " values, expected ", n,
           " (one per spatial axis)");
  return v;
}

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

WindowAttrs read_window_attrs(const Node& node, size_t spatial_rank, const std::vector<int64_t>& kernel_from_weights,
                              bool allow_ceil_mode) {
  WindowAttrs w;
  const size_t n = spatial_rank;
  if (node.has_attr("kernel_shape")) {
    w.kernel = ints_or(node, "kernel_shape", n, 1);
    if (!kernel_from_weights.empty())
      FC_CHECK(w.kernel == kernel_from_weights, node.describe(),
               ": attribute 'kernel_shape' disagrees with the weight's spatial dims");
  } else {
    FC_CHECK(!kernel_from_weights.empty(), node.describe(), ": missing required attribute 'kernel_shape'");
    w.kernel = kernel_from_weights;
  }
  w.strides = ints_or(node, "strides", n, 1);
  w.dilations = ints_or(node, "dilations", n, 1);
  for (size_t i = 0; i < n; ++i)
    FC_CHECK(w.kernel[i] >= 1 && w.strides[i] >= 1 && w.dilations[i] >= 1, node.describe(),
             ": kernel_shape, strides and dilations must be >= 1");

  w.auto_pad = node.has_attr("auto_pad") ? node.attr_string("auto_pad") : "NOTSET";
  if (w.auto_pad.empty()) w.auto_pad = "NOTSET";  // some exporters write an empty string
  FC_CHECK(w.auto_pad == "NOTSET" || w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER" ||
               w.auto_pad == "VALID",
           node.describe(), ": unknown auto_pad '", w.auto_pad, "' (NOTSET, SAME_UPPER, SAME_LOWER or VALID)");
  std::vector<int64_t> pads = ints_or(node, "pads", 2 * n, 0);
  if (node.has_attr("pads") && w.auto_pad != "NOTSET")
    FC_CHECK(std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; }), node.describe(),
             ": explicit 'pads' cannot be combined with auto_pad ", w.auto_pad);
  for (int64_t p : pads) FC_CHECK(p >= 0, node.describe(), ": pads must be >= 0");
  w.pads_begin.assign(pads.begin(), pads.begin() + n);
  w.pads_end.assign(pads.begin() + n, pads.end());

  if (node.has_attr("ceil_mode")) {
    int64_t c = node.attr_int("ceil_mode");
    FC_CHECK(c == 0 || c == 1, node.describe(), ": ceil_mode must be 0 or 1");
    FC_CHECK(allow_ceil_mode || c == 0, node.describe(), ": ceil_mode is not an attribute of this op");
    w.ceil_mode = c == 1;
  }
  return w;
}

AxisWindow resolve_axis(const WindowAttrs& w, size_t axis, int64_t in, const Node& node) {
  const int64_t s = w.strides[axis], dk = w.extent(axis);
  AxisWindow a;
  if (w.auto_pad == "SAME_UPPER" || w.auto_pad == "SAME_LOWER") {
    a.out = ceil_div(in, s);
    int64_t total = std::max<int64_t>(0, (a.out - 1) * s + dk - in);
    a.pad_begin = w.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    a.pad_end = total - a.pad_begin;
    return a;
  }
  if (w.auto_pad == "NOTSET") {
    a.pad_begin = w.pads_begin[axis];
    a.pad_end = w.pads_end[axis];
  }
  const int64_t span = in + a.pad_begin + a.pad_end - dk;
  FC_CHECK(span >= 0, node.describe(), ": window of extent ", dk, " does not fit spatial axis ", axis,
           " of size ", in, " with pads ", a.pad_begin, "+", a.pad_end);
  if (w.ceil_mode && w.auto_pad == "NOTSET") {
    a.out = ceil_div(span, s) + 1;
    if ((a.out - 1) * s >= in + a.pad_begin) --a.out;
  } else {
    a.out = floor_div(span, s) + 1;
  }
  return a;
}

Dim output_dim(const WindowAttrs& w, size_t axis, const Dim& in, const Node& node) {
  if (!in.is_known()) return Dim::unknown();
  return Dim::known(resolve_axis(w, axis, in.size, node).out);
}

int64_t dnnl_pad_end(const WindowAttrs& w, size_t axis, int64_t in, const AxisWindow& a) {
  return std::max(a.pad_end, (a.out - 1) * w.strides[axis] + w.extent(axis) - in - a.pad_begin);
}

}  // namespace fc::ir
