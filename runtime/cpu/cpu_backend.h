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

 private:
  int threads_ = 1;
};

int available_cores();

}  // namespace fc::runtime::cpu
