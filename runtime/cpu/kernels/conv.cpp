// CPU kernel for Conv through oneDNN's direct convolution.
//   x: [N, C, D1..Dk] plain, w: [M, C/G, K1..Kk] (viewed as [G, M/G, C/G, K1..Kk] when G > 1),
//   b: [M] (optional) -> y: [N, M, O1..Ok] plain.
// With bf16 products (KernelSpec::product_operands) x and w are rounded to bf16 as they are
// reordered into the primitive's layout; it accumulates in fp32 and writes y in fp32.
// fc.ConvRelu: the same with max(y, 0) applied by the primitive as it writes y (an eltwise post-op),
// so the activation costs no pass of its own over y.
// The primitive chooses its own (blocked) layouts; activations are reordered in and out, and a
// constant weight (a parameter) is reordered into the chosen layout once, here at build time.
#include "runtime/cpu/dnnl_context.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/conv_geometry.h"

namespace fc::runtime::cpu {
namespace {

class ConvKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  ConvKernel(const KernelSpec& s, bool relu) : node_(s.node) { dnnl_checked(node_, [&] { build(s, relu); }); }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    dnnl_checked(node_, [&] {
      std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src_.input(*in[0])},
                                                 {DNNL_ARG_DST, dst_.output(out[0])}};
      args[DNNL_ARG_WEIGHTS] = const_weights_ ? const_weights_.get(*in[1]) : weights_.input(*in[1]);
      if (has_bias_) args[DNNL_ARG_BIAS] = wrap(*in[2], bias_desc_);
      execute(prim_, args);
      dst_.output_done(out[0]);
    });
  }

 private:
  void build(const KernelSpec& s, bool relu) {
    const ConvGeometry g = conv_geometry(node_, s.inputs[0].sizes(), s.inputs[1].sizes(), s.outputs[0].sizes());
    const std::vector<int64_t>&x = g.x, &w = g.w, &y = g.y, &wdims = g.wdims;
    has_bias_ = s.inputs.size() > 2 && s.inputs[2].dtype != ir::DType::Undefined;
    bias_desc_ = plain_desc({w[0]});
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
    const auto t = dnnl_type(s.product_operands);
    auto d = has_bias_ ? dnnl::convolution_forward::desc(prop, alg, any_desc(x, t), any_desc(wdims, t), bias_desc_,
                                                         any_desc(y), g.strides, g.dilations, g.pads_l, g.pads_r)
                       : dnnl::convolution_forward::desc(prop, alg, any_desc(x, t), any_desc(wdims, t), any_desc(y),
                                                         g.strides, g.dilations, g.pads_l, g.pads_r);
    dnnl::primitive_attr attr;
    if (relu) {
      dnnl::post_ops ops;
      // Not eltwise_relu: with alpha 0 oneDNN computes max(y, 0), which turns a NaN into 0, where
      // Relu (relu.cpp, PyTorch) keeps it. elu with alpha 0 is y > 0 ? y : 0 * (exp(y) - 1): y or
      // -0 or NaN; adding +0 (linear 1 * y + 0) makes the -0 a +0, so the bytes are Relu's.
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_elu, 0.0f, 0.0f);
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, 1.0f, 0.0f);
      attr.set_post_ops(ops);
    }
    dnnl::convolution_forward::primitive_desc pd(d, attr, dnnl_engine());
    prim_ = dnnl::convolution_forward(pd);
    src_ = LayoutBridge(plain_desc(x), pd.src_desc(), LayoutBridge::Dir::In);
    dst_ = LayoutBridge(plain_desc(y), pd.dst_desc(), LayoutBridge::Dir::Out);
    const Tensor* wv = s.values[1];
    if (wv && pd.weights_desc() != plain_desc(wdims)) {
      const_weights_ = ReorderedConstant(*wv, plain_desc(wdims), pd.weights_desc());
    } else {
      weights_ = LayoutBridge(plain_desc(wdims), pd.weights_desc(), LayoutBridge::Dir::In);
    }
  }

  const ir::Node& node_;
  dnnl::convolution_forward prim_;
  LayoutBridge src_, dst_, weights_;
  ReorderedConstant const_weights_;  // set when the weight is a parameter the primitive wants blocked
  dnnl::memory::desc bias_desc_;
  bool has_bias_ = false;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("Conv", [](const KernelSpec& s) { return std::make_unique<ConvKernel>(s, false); });
FC_REGISTER_CPU_KERNEL("fc::ConvRelu", [](const KernelSpec& s) { return std::make_unique<ConvKernel>(s, true); });

}  // namespace fc::runtime::cpu
