// CPU kernels attach to ops by name. Each kernel file registers a factory:
//   FC_REGISTER_CPU_KERNEL("Relu", [](const KernelSpec& s) { return std::make_unique<ReluKernel>(s); });
// Helpers for the common shapes of kernels (a plain function of inputs -> outputs) are below.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "runtime/backend.h"

namespace fc::runtime::cpu {

using KernelFactory = std::function<std::unique_ptr<Kernel>(const KernelSpec&)>;

class KernelRegistry {
 public:
  static KernelRegistry& global();
  void add(const std::string& op, KernelFactory f);  // key: "Domain::Op" or "Op" for ONNX ops
  const KernelFactory* find(const std::string& op) const;
  std::vector<std::string> ops() const;

 private:
  std::map<std::string, KernelFactory> factories_;
};

struct KernelRegistrar {
  KernelRegistrar(const std::string& op, KernelFactory f) { KernelRegistry::global().add(op, std::move(f)); }
};

// A kernel that is just a function; `fn` receives the spec captured at build time.
using KernelFn = std::function<void(const KernelSpec&, const std::vector<const Tensor*>&, std::vector<Tensor>&)>;
// What a function kernel's outputs must hold when it starts (Kernel::overwrites_outputs).
enum class OutputsOnEntry { Zeroed, Anything };
std::unique_ptr<Kernel> make_function_kernel(const KernelSpec& spec, KernelFn fn,
                                             OutputsOnEntry outputs = OutputsOnEntry::Zeroed);

}  // namespace fc::runtime::cpu

#define FC_KCONCAT_INNER(a, b) a##b
#define FC_KCONCAT(a, b) FC_KCONCAT_INNER(a, b)
#define FC_REGISTER_CPU_KERNEL(op, factory) \
  static ::fc::runtime::cpu::KernelRegistrar FC_KCONCAT(fc_cpu_kernel_registrar_, __LINE__)(op, factory)
// Registers a function kernel: FC_REGISTER_CPU_FN("Relu", relu_fn);
#define FC_REGISTER_CPU_FN(op, fn)                                                  \
  FC_REGISTER_CPU_KERNEL(op, [](const ::fc::runtime::KernelSpec& s) {               \
    return ::fc::runtime::cpu::make_function_kernel(s, fn);                        \
  })
// Registers a function kernel that writes every element of its outputs (no zero-fill needed).
#define FC_REGISTER_CPU_FN_OVERWRITING(op, fn)                                                           \
  FC_REGISTER_CPU_KERNEL(op, [](const ::fc::runtime::KernelSpec& s) {                                    \
    return ::fc::runtime::cpu::make_function_kernel(s, fn, ::fc::runtime::cpu::OutputsOnEntry::Anything); \
  })
