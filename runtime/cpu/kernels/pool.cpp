// CPU kernels for AveragePool and GlobalAveragePool through oneDNN pooling (max pooling: max_pool.cpp).
//   x: [N, C, D1..Dk] plain -> y: [N, C, O1..Ok] plain (global pools: O = 1).
// Ceil mode grows the right padding so that oneDNN sees the partial last window (ir/ops/window.h).
// AveragePool with count_include_pad=1 follows PyTorch: the declared padding counts in the divisor,
// the ceil-mode extension beyond it does not. oneDNN's include-padding mode would count both, so in
// that case the input is copied into a zero-padded buffer (the declared padding made real) and
// pooled excluding the remaining, extension-only, padding.
#include <algorithm>

#include "ir/ops/window.h"
#include "ir/shape_util.h"
#include "runtime/cpu/dnnl_context.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

enum class PoolKind { Average, GlobalAverage };

struct DnnlPoolGeometry {
  std::vector<int64_t> kernel, strides, dilations, pads_l, pads_r;  // oneDNN conventions
  std::vector<int64_t> pre_pad_l, pre_pad_r;  // explicit zero padding applied before pooling (or empty)
  dnnl::algorithm alg = dnnl::algorithm::pooling_avg_exclude_padding;
};

DnnlPoolGeometry dnnl_pool_geometry(const ir::Node& node, PoolKind kind, const std::vector<int64_t>& x) {
  const size_t k = x.size() - 2;
  DnnlPoolGeometry g;
  if (kind == PoolKind::GlobalAverage) {
    g.kernel.assign(x.begin() + 2, x.end());
    g.strides.assign(k, 1);
    g.dilations = g.pads_l = g.pads_r = std::vector<int64_t>(k, 0);
    return g;
  }
  const ir::WindowAttrs w = ir::read_window_attrs(node, k, {}, true);
  bool extended = false;  // ceil mode added padding beyond the declared pads
  std::vector<int64_t> declared_r;
  for (size_t i = 0; i < k; ++i) {
    const ir::AxisWindow a = ir::resolve_axis(w, i, x[2 + i], node);
    g.kernel.push_back(w.kernel[i]);
    g.strides.push_back(w.strides[i]);
    g.dilations.push_back(w.dilations[i] - 1);
    g.pads_l.push_back(a.pad_begin);
    g.pads_r.push_back(ir::dnnl_pad_end(w, i, x[2 + i], a));
    declared_r.push_back(a.pad_end);
    extended |= g.pads_r.back() > a.pad_end;
  }
  const bool include_pad = node.attr_int("count_include_pad") == 1;
  g.alg = include_pad ? dnnl::algorithm::pooling_avg_include_padding : dnnl::algorithm::pooling_avg_exclude_padding;
  if (include_pad && extended) {
    g.pre_pad_l = g.pads_l;
    g.pre_pad_r = declared_r;
    for (size_t i = 0; i < k; ++i) {
      g.pads_r[i] -= declared_r[i];
      g.pads_l[i] = 0;
    }
    g.alg = dnnl::algorithm::pooling_avg_exclude_padding;
  }
  return g;
}

class PoolKernel : public Kernel {
 public:
  PoolKernel(const KernelSpec& s, PoolKind kind) : node_(s.node) {
    dnnl_checked(node_, [&] { build(s, kind); });
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    dnnl_checked(node_, [&] {
      dnnl::memory src = wrap(*in[0], src_desc_);
      if (padded_) {
        // Only the interior is written; the zero border was set when the buffer was made.
        execute(pad_copy_, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, padded_}});
        src = padded_;
      }
      execute(prim_, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, wrap(out[0], dst_desc_)}});
    });
  }

 private:
  void build(const KernelSpec& s, PoolKind kind) {
    const std::vector<int64_t> x = s.inputs[0].sizes(), y = s.outputs[0].sizes();
    const DnnlPoolGeometry g = dnnl_pool_geometry(node_, kind, x);
    src_desc_ = plain_desc(x);
    dst_desc_ = plain_desc(y);
    dnnl::memory::desc pool_src = src_desc_;
    if (!g.pre_pad_l.empty()) {
      std::vector<int64_t> padded = x;
      for (size_t i = 0; i + 2 < x.size(); ++i) padded[i + 2] += g.pre_pad_l[i] + g.pre_pad_r[i];
      pool_src = plain_desc(padded);
      padded_ = dnnl::memory(pool_src, dnnl_engine());
      std::fill_n(static_cast<float*>(padded_.get_data_handle()), ir::product(padded), 0.0f);
      std::vector<int64_t> offsets(2, 0);
      offsets.insert(offsets.end(), g.pre_pad_l.begin(), g.pre_pad_l.end());
      const dnnl::memory::desc interior = pool_src.submemory_desc(to_dnnl_dims(x), to_dnnl_dims(offsets));
      const dnnl::engine& e = dnnl_engine();
      pad_copy_ = dnnl::reorder(dnnl::reorder::primitive_desc(e, src_desc_, e, interior));
    }
    // Average pooling stays on the plain layout, where its summation order is the one the parity
    // tests pinned.
    dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, g.alg, pool_src, dst_desc_,
                                     to_dnnl_dims(g.strides), to_dnnl_dims(g.kernel), to_dnnl_dims(g.dilations),
                                     to_dnnl_dims(g.pads_l), to_dnnl_dims(g.pads_r));
    prim_ = dnnl::pooling_v2_forward(dnnl::pooling_v2_forward::primitive_desc(d, dnnl_engine()));
  }

  const ir::Node& node_;
  dnnl::memory::desc src_desc_, dst_desc_;
  dnnl::memory padded_;   // zero-padded copy of x (count_include_pad with a ceil-mode extension)
  dnnl::reorder pad_copy_;
  dnnl::pooling_v2_forward prim_;
};

KernelFactory pool_factory(PoolKind kind) {
  return [kind](const KernelSpec& s) { return std::make_unique<PoolKernel>(s, kind); };
}

}  // namespace

FC_REGISTER_CPU_KERNEL("AveragePool", pool_factory(PoolKind::Average));
FC_REGISTER_CPU_KERNEL("GlobalAveragePool", pool_factory(PoolKind::GlobalAverage));

}  // namespace fc::runtime::cpu
