// CPU kernels for Gemm and MatMul through oneDNN matmul (matmul_primitive.h).
//   Gemm:   A: [M, K] or [K, M] (transA), B: [K, N] or [N, K] (transB), C: broadcastable to [M, N]
//           -> Y: [M, N]. Transposes are strided views; beta * C is a sum post-op over Y after Y
//           is filled with the broadcast C.
//   MatMul: A: [.., M, K] (or [K]), B: [.., K, N] (or [K]) -> Y: broadcast batch + [M, N] minus the
//           axes added for 1-D operands. When B has no real batch axes, A's batch folds into M.
//   fc.TransposedMatMul: MatMul of A and B read with their last two axes swapped (trans_a,
//           trans_b) through strides; A's batch folds into M as above unless A is read transposed.
#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/matmul_primitive.h"

namespace fc::runtime::cpu {
namespace {

bool present(const KernelSpec& s, size_t i) { return i < s.inputs.size() && s.inputs[i].dtype != ir::DType::Undefined; }

class GemmKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit GemmKernel(const KernelSpec& s) : node_(s.node) {
    const std::vector<int64_t> a = s.inputs[0].sizes(), b = s.inputs[1].sizes();
    const bool ta = node_.attr_int("transA") != 0, tb = node_.attr_int("transB") != 0;
    m_ = ta ? a[1] : a[0];
    n_ = tb ? b[0] : b[1];
    const int64_t k = ta ? a[0] : a[1];
    const float beta = node_.attr_float("beta");
    if (present(s, 2) && beta != 0.0f) {
      std::vector<int64_t> c = s.inputs[2].sizes();
      c.insert(c.begin(), 2 - c.size(), 1);
      // Broadcast axes read the same element again: stride 0.
      c_row_stride_ = c[0] == 1 ? 0 : c[1];
      c_col_stride_ = c[1] == 1 ? 0 : 1;
      accumulate_ = true;
    }
    MatmulOperand src{{m_, k}, ta ? std::vector<int64_t>{1, m_} : std::vector<int64_t>{k, 1}};
    MatmulOperand wei{{k, n_}, tb ? std::vector<int64_t>{1, k} : std::vector<int64_t>{n_, 1}};
    dnnl_checked(node_, [&] {
      mm_ = MatmulPrimitive(src, wei, {m_, n_}, node_.attr_float("alpha"), accumulate_ ? beta : 0.0f, s.values[1],
                            s.product_operands);
    });
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    if (accumulate_) {
      // y: [M, N] <- C broadcast; the matmul then adds alpha * A' * B' to beta * y.
      const float* c = in[2]->data<float>();
      float* y = out[0].data<float>();
#pragma omp parallel for if (m_ * n_ > 65536)
      for (int64_t i = 0; i < m_; ++i)
        for (int64_t j = 0; j < n_; ++j) y[i * n_ + j] = c[i * c_row_stride_ + j * c_col_stride_];
    }
    dnnl_checked(node_, [&] { mm_.run(*in[0], in[1], out[0]); });
  }

 private:
  const ir::Node& node_;
  int64_t m_ = 0, n_ = 0;
  int64_t c_row_stride_ = 0, c_col_stride_ = 0;
  bool accumulate_ = false;
  MatmulPrimitive mm_;
};

class MatMulKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  // ta, tb: read A, B with their last two axes swapped (fc.TransposedMatMul; both of rank >= 2).
  MatMulKernel(const KernelSpec& s, bool ta, bool tb) : node_(s.node) {
    std::vector<int64_t> a = s.inputs[0].sizes(), b = s.inputs[1].sizes();
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    const size_t r = std::max(a.size(), b.size());
    a.insert(a.begin(), r - a.size(), 1);
    b.insert(b.begin(), r - b.size(), 1);
    MatmulOperand src{a, ir::strides_of(a)}, wei{b, ir::strides_of(b)};
    for (auto [op, t] : {std::pair{&src, ta}, std::pair{&wei, tb}})
      if (t) {
        std::swap(op->dims[r - 1], op->dims[r - 2]);
        std::swap(op->strides[r - 1], op->strides[r - 2]);
      }
    const int64_t m = src.dims[r - 2], k = src.dims[r - 1], n = wei.dims[r - 1];
    const std::vector<int64_t> a_batch(a.begin(), a.end() - 2), b_batch(b.begin(), b.end() - 2);
    std::vector<int64_t> dst;
    if (ir::product(b_batch) == 1 && !ta) {
      // y: [batch * M, N] = x: [batch * M, K] x w: [K, N]
      const int64_t rows = ir::product(a_batch) * m;
      src = {{rows, k}, {k, 1}};
      wei = {{k, n}, {wei.strides[r - 2], wei.strides[r - 1]}};
      dst = {rows, n};
    } else {
      dst = ir::broadcast_sizes(a_batch, b_batch);
      dst.push_back(m);
      dst.push_back(n);
    }
    dnnl_checked(node_, [&] { mm_ = MatmulPrimitive(src, wei, dst, 1.0f, 0.0f, s.values[1], s.product_operands); });
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    dnnl_checked(node_, [&] { mm_.run(*in[0], in[1], out[0]); });
  }

 private:
  const ir::Node& node_;
  MatmulPrimitive mm_;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("Gemm", [](const KernelSpec& s) { return std::make_unique<GemmKernel>(s); });
FC_REGISTER_CPU_KERNEL("MatMul", [](const KernelSpec& s) { return std::make_unique<MatMulKernel>(s, false, false); });
FC_REGISTER_CPU_KERNEL("fc::TransposedMatMul", [](const KernelSpec& s) {
  return std::make_unique<MatMulKernel>(s, s.node.attr_int("trans_a") != 0, s.node.attr_int("trans_b") != 0);
});

}  // namespace fc::runtime::cpu
