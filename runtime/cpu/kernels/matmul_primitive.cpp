#include "runtime/cpu/kernels/matmul_primitive.h"

namespace fc::runtime::cpu {

MatmulPrimitive::MatmulPrimitive(const MatmulOperand& src, const MatmulOperand& weights,
                                 const std::vector<int64_t>& dst_dims, float alpha, float beta,
                                 const ir::Tensor* const_weights, ir::DType operands) {
  src_desc_ = strided_desc(src.dims, src.strides);
  weights_desc_ = strided_desc(weights.dims, weights.strides);
  dst_desc_ = plain_desc(dst_dims);
  dnnl::primitive_attr attr;
  if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
  if (beta != 0.0f) {
    dnnl::post_ops ops;
    ops.append_sum(beta);
    attr.set_post_ops(ops);
  }
  auto make_pd = [&](const dnnl::memory::desc& s, const dnnl::memory::desc& w) {
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(s, w, dst_desc_), attr, dnnl_engine());
  };
  // The weight in the layout the primitive prefers; some shapes (broadcast batch axes) have no
  // implementation with a chosen layout, and then `otherwise` is used.
  auto preferring = [&](const dnnl::memory::desc& s, dnnl::memory::data_type t, const dnnl::memory::desc& otherwise) {
    try {
      return make_pd(s, any_desc(weights.dims, t));
    } catch (const dnnl::error&) {
      return make_pd(s, otherwise);
    }
  };
  dnnl::matmul::primitive_desc pd;
  if (operands == ir::DType::BF16) {
    // Both operands are rounded to bf16 by the reorders into the primitive's layouts (a parameter
    // weight once); it accumulates and writes dst in fp32.
    const auto bf16 = dnnl::memory::data_type::bf16;
    pd = preferring(plain_desc(src.dims, bf16), bf16, plain_desc(weights.dims, bf16));
    src_bridge_ = LayoutBridge(src_desc_, pd.src_desc(), LayoutBridge::Dir::In);
    if (const_weights)
      const_weights_ = ReorderedConstant(*const_weights, weights_desc_, pd.weights_desc());
    else
      weights_bridge_ = LayoutBridge(weights_desc_, pd.weights_desc(), LayoutBridge::Dir::In);
    bridged_ = true;
  } else if (const_weights) {
    // A parameter weight can live in whatever layout the primitive prefers.
    pd = preferring(src_desc_, dnnl::memory::data_type::f32, weights_desc_);
    // Same layout as given: read the parameter in place at run time, no copy to keep in sync.
    if (pd.weights_desc() != weights_desc_)
      const_weights_ = ReorderedConstant(*const_weights, weights_desc_, pd.weights_desc());
  } else {
    pd = make_pd(src_desc_, weights_desc_);
  }
  prim_ = dnnl::matmul(pd);
}

void MatmulPrimitive::run(const ir::Tensor& src, const ir::Tensor* weights, ir::Tensor& dst) {
  dnnl::memory s = bridged_ ? src_bridge_.input(src) : wrap(src, src_desc_);
  dnnl::memory w = const_weights_ ? const_weights_.get(*weights)
                   : bridged_     ? weights_bridge_.input(*weights)
                                  : wrap(*weights, weights_desc_);
  execute(prim_, {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, wrap(dst, dst_desc_)}});
}

}  // namespace fc::runtime::cpu
