// CPU kernels for Conv's backward ops through oneDNN (geometry shared with the forward kernel,
// conv_geometry.h):
//   fc.ConvGradData(dy: [N, M, O..], w: [M, C/G, K..], x: [N, C, D..] (shape only)) -> dx: [N, C, D..]
//     (convolution_backward_data)
//   fc.ConvGradWeight(dy: [N, M, O..], x: [N, C, D..], w (shape only)) -> dw: [M, C/G, K..] [, db: [M]]
//     (convolution_backward_weights; it sums db over N and the spatial axes in the same pass)
// Each primitive is created once per shape, with the forward-training primitive as its layout hint;
// plain tensors are reordered into and out of the layouts it chooses (LayoutBridge), and a constant
// weight (a parameter outside training) is reordered once. With bf16 products
// (KernelSpec::product_operands) the multiplied operands are rounded to bf16 by those reorders;
// dx, dw and db are accumulated and written in fp32.
#include "runtime/cpu/dnnl_context.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/conv_geometry.h"

namespace fc::runtime::cpu {
namespace {

class ConvGradDataKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit ConvGradDataKernel(const KernelSpec& s) : node_(s.node) {
    dnnl_checked(node_, [&] {
      const ConvGeometry g = conv_geometry(node_, s.inputs[2].sizes(), s.inputs[1].sizes(), s.inputs[0].sizes());
      const auto t = dnnl_type(s.product_operands);
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, any_desc(g.x),
                                              any_desc(g.wdims, t), any_desc(g.y, t), g.strides, g.dilations,
                                              g.pads_l, g.pads_r);
      dnnl::convolution_backward_data::primitive_desc pd(d, dnnl_engine(), conv_forward_hint(g, s.product_operands));
      prim_ = dnnl::convolution_backward_data(pd);
      diff_dst_ = LayoutBridge(plain_desc(g.y), pd.diff_dst_desc(), LayoutBridge::Dir::In);
      diff_src_ = LayoutBridge(plain_desc(g.x), pd.diff_src_desc(), LayoutBridge::Dir::Out);
      if (s.values[1] && pd.weights_desc() != plain_desc(g.wdims))
        const_weights_ = ReorderedConstant(*s.values[1], plain_desc(g.wdims), pd.weights_desc());
      else
        weights_ = LayoutBridge(plain_desc(g.wdims), pd.weights_desc(), LayoutBridge::Dir::In);
    });
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    dnnl_checked(node_, [&] {
      std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_DIFF_DST, diff_dst_.input(*in[0])},
                                                 {DNNL_ARG_DIFF_SRC, diff_src_.output(out[0])}};
      args[DNNL_ARG_WEIGHTS] = const_weights_ ? const_weights_.get(*in[1]) : weights_.input(*in[1]);
      execute(prim_, args);
      diff_src_.output_done(out[0]);
    });
  }

 private:
  const ir::Node& node_;
  dnnl::convolution_backward_data prim_;
  LayoutBridge diff_dst_, diff_src_, weights_;
  ReorderedConstant const_weights_;
};

class ConvGradWeightKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit ConvGradWeightKernel(const KernelSpec& s) : node_(s.node) {
    has_bias_ = s.outputs.size() > 1;
    dnnl_checked(node_, [&] {
      const ConvGeometry g = conv_geometry(node_, s.inputs[1].sizes(), s.inputs[2].sizes(), s.inputs[0].sizes());
      const auto alg = dnnl::algorithm::convolution_direct;
      const auto t = dnnl_type(s.product_operands);
      bias_desc_ = plain_desc({g.w[0]});
      auto d = has_bias_ ? dnnl::convolution_backward_weights::desc(alg, any_desc(g.x, t), any_desc(g.wdims),
                                                                    bias_desc_, any_desc(g.y, t), g.strides,
                                                                    g.dilations, g.pads_l, g.pads_r)
                         : dnnl::convolution_backward_weights::desc(alg, any_desc(g.x, t), any_desc(g.wdims),
                                                                    any_desc(g.y, t), g.strides, g.dilations,
                                                                    g.pads_l, g.pads_r);
      dnnl::convolution_backward_weights::primitive_desc pd(d, dnnl_engine(),
                                                            conv_forward_hint(g, s.product_operands));
      prim_ = dnnl::convolution_backward_weights(pd);
      src_ = LayoutBridge(plain_desc(g.x), pd.src_desc(), LayoutBridge::Dir::In);
      diff_dst_ = LayoutBridge(plain_desc(g.y), pd.diff_dst_desc(), LayoutBridge::Dir::In);
      diff_weights_ = LayoutBridge(plain_desc(g.wdims), pd.diff_weights_desc(), LayoutBridge::Dir::Out);
    });
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    dnnl_checked(node_, [&] {
      std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_DIFF_DST, diff_dst_.input(*in[0])},
                                                 {DNNL_ARG_SRC, src_.input(*in[1])},
                                                 {DNNL_ARG_DIFF_WEIGHTS, diff_weights_.output(out[0])}};
      if (has_bias_) args[DNNL_ARG_DIFF_BIAS] = wrap(out[1], bias_desc_);
      execute(prim_, args);
      diff_weights_.output_done(out[0]);
    });
  }

 private:
  const ir::Node& node_;
  bool has_bias_ = false;
  dnnl::convolution_backward_weights prim_;
  LayoutBridge src_, diff_dst_, diff_weights_;
  dnnl::memory::desc bias_desc_;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("fc::ConvGradData",
                       [](const KernelSpec& s) { return std::make_unique<ConvGradDataKernel>(s); });
FC_REGISTER_CPU_KERNEL("fc::ConvGradWeight",
                       [](const KernelSpec& s) { return std::make_unique<ConvGradWeightKernel>(s); });

}  // namespace fc::runtime::cpu
