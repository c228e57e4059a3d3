// A oneDNN matmul built once and shared by the Gemm and MatMul kernels:
//   dst[b.., M, N] = alpha * src[b.., M, K] x weights[b.., K, N] (+ beta * dst when accumulating)
// Operands are strided views of plain buffers (transposes and size-1 broadcast batch axes need no
// copy); all three have the same rank. A constant weight is reordered once into the layout the
// primitive prefers when that differs from the given view. With bf16 operands (KernelSpec::
// product_operands) src and weights are rounded to bf16 as they are reordered into the primitive's
// layouts; dst stays fp32.
#pragma once

#include <vector>

#include "runtime/cpu/dnnl_context.h"

namespace fc::runtime::cpu {

struct MatmulOperand {
  std::vector<int64_t> dims;
  std::vector<int64_t> strides;
};

class MatmulPrimitive {
 public:
  MatmulPrimitive() = default;
  // beta != 0 adds beta * (the destination's prior contents). const_weights: the weight's value
  // when it is a parameter (reordered here), else null.
  MatmulPrimitive(const MatmulOperand& src, const MatmulOperand& weights, const std::vector<int64_t>& dst_dims,
                  float alpha, float beta, const ir::Tensor* const_weights, ir::DType operands);
  // weights: the weight tensor at this run (the parameter's, for a constant weight).
  void run(const ir::Tensor& src, const ir::Tensor* weights, ir::Tensor& dst);

 private:
  dnnl::matmul prim_;
  dnnl::memory::desc src_desc_, weights_desc_, dst_desc_;
  ReorderedConstant const_weights_;
  LayoutBridge src_bridge_, weights_bridge_;  // used when bridged_ (bf16 operands)
  bool bridged_ = false;
};

}  // namespace fc::runtime::cpu
