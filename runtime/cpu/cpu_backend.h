// The CPU backend: kernels from the CPU kernel registry, oneDNN for the heavy ops (through the
// shared engine/stream in dnnl_context.h), plain loops elsewhere.
#pragma once

#include "runtime/backend.h"

namespace fc::runtime::cpu {

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(int threads = 0);  // 0: all cores this process may use
  std::string name() const override { return "cpu"; }
  bool supports(const ir::Node& node) const override;
  std::unique_ptr<Kernel> make_kernel(const KernelSpec& spec) override;
  void set_threads(int threads) override;
  int threads() const override { return threads_; }
  // What every kernel built from now on multiplies convolution and matrix-product operands in
  // (KernelSpec::product_operands): F32 or BF16. Choose it with product_operands_for (precision.h).
  void set_product_operands(ir::DType t) { product_operands_ = t; }

 private:
  int threads_ = 1;
  ir::DType product_operands_ = ir::DType::F32;
};

int available_cores();

}  // namespace fc::runtime::cpu
