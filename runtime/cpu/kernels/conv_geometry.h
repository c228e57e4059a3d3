// Conv geometry in oneDNN's terms, shared by the forward Conv kernel and its backward kernels
// (fc.ConvGradData, fc.ConvGradWeight) so that all three see the same strides, dilations and pads.
//   x: [N, C, D1..Dk], w: [M, C/G, K1..Kk] -> y: [N, M, O1..Ok]
// Grouped weights [M, C/G, K..] are the same buffer as oneDNN's [G, M/G, C/G, K..].
#pragma once

#include <cstdint>
#include <vector>

#include "ir/ops/window.h"
#include "runtime/cpu/dnnl_context.h"

namespace fc::runtime::cpu {

struct ConvGeometry {
  std::vector<int64_t> x, w, y;          // plain dims of input, weight (as given) and output
  std::vector<int64_t> wdims;            // weight dims as oneDNN sees them (grouped when G > 1)
  dnnl::memory::dims strides, dilations, pads_l, pads_r;  // dilations counted from 0, as oneDNN does
};

// `node` carries the Conv attributes (a Conv node or one of its backward nodes).
inline ConvGeometry conv_geometry(const ir::Node& node, const std::vector<int64_t>& x, const std::vector<int64_t>& w,
                                  const std::vector<int64_t>& y) {
  ConvGeometry g{x, w, y, w, {}, {}, {}, {}};
  const size_t k = x.size() - 2;
  const ir::WindowAttrs win = ir::read_window_attrs(node, k, std::vector<int64_t>(w.begin() + 2, w.end()), false);
  for (size_t i = 0; i < k; ++i) {
    const ir::AxisWindow a = ir::resolve_axis(win, i, x[2 + i], node);
    g.strides.push_back(win.strides[i]);
    g.dilations.push_back(win.dilations[i] - 1);
    g.pads_l.push_back(a.pad_begin);
    g.pads_r.push_back(ir::dnnl_pad_end(win, i, x[2 + i], a));
  }
  const int64_t group = node.attr_int("group");
  if (group > 1) {
    g.wdims.insert(g.wdims.begin(), group);
    g.wdims[1] /= group;
  }
  return g;
}

// A forward-training primitive descriptor over the same geometry, its input and weight in the
// element type the products use: oneDNN's backward primitives take one as a hint for their layouts.
inline dnnl::convolution_forward::primitive_desc conv_forward_hint(const ConvGeometry& g, ir::DType operands) {
  const auto t = dnnl_type(operands);
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                    any_desc(g.x, t), any_desc(g.wdims, t), any_desc(g.y), g.strides,
                                    g.dilations, g.pads_l, g.pads_r);
  return dnnl::convolution_forward::primitive_desc(d, dnnl_engine());
}

}  // namespace fc::runtime::cpu
