#include "runtime/cpu/kernels/matmul_primitive.h"

namespace fc::runtime::cpu {

MatmulPrimitive::MatmulPrimitive(const MatmulOperand& src, const MatmulOperand& weights,
                                 const std::vector<int64_t>& dst_dims, float alpha, float beta,
                                 const ir::Tensor* const_weights) {
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
  auto make_pd = [&](const dnnl::memory::desc& w) {
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_desc_, w, dst_desc_), attr, dnnl_engine());
  };
  dnnl::matmul::primitive_desc pd;
  if (const_weights) {
    // A parameter weight can live in whatever layout the primitive prefers; some shapes (broadcast
    // batch axes) have no such implementation, and then the plain view is used as given.
    try {
      pd = make_pd(any_desc(weights.dims));
    } catch (const dnnl::error&) {
      pd = make_pd(weights_desc_);
    }
    // Same layout as given: read the parameter in place at run time, no copy to keep in sync.
    if (pd.weights_desc() != weights_desc_)
      const_weights_ = ReorderedConstant(*const_weights, weights_desc_, pd.weights_desc());
  } else {
    pd = make_pd(weights_desc_);
  }
  prim_ = dnnl::matmul(pd);
}

void MatmulPrimitive::run(const ir::Tensor& src, const ir::Tensor* weights, ir::Tensor& dst) {
  execute(prim_, {{DNNL_ARG_SRC, wrap(src, src_desc_)},
                  {DNNL_ARG_WEIGHTS, const_weights_ ? const_weights_.get(*weights) : wrap(*weights, weights_desc_)},
                  {DNNL_ARG_DST, wrap(dst, dst_desc_)}});
}

}  // namespace fc::runtime::cpu
