#include "runtime/cpu/kernel_registry.h"

#include "support/error.h"

namespace fc::runtime::cpu {

KernelRegistry& KernelRegistry::global() {
  static KernelRegistry r;
  return r;
}

void KernelRegistry::add(const std::string& op, KernelFactory f) {
  FC_ASSERT(!factories_.count(op));
  factories_.emplace(op, std::move(f));
}

const KernelFactory* KernelRegistry::find(const std::string& op) const {
  auto it = factories_.find(op);
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<std::string> KernelRegistry::ops() const {
  std::vector<std::string> r;
  for (const auto& [k, v] : factories_) r.push_back(k);
  return r;
}

namespace {
class FunctionKernel : public Kernel {
 public:
  FunctionKernel(const KernelSpec& spec, KernelFn fn, OutputsOnEntry on_entry)
      : node_(spec.node), inputs_(spec.inputs), outputs_(spec.outputs), threads_(spec.threads), fn_(std::move(fn)),
        overwrites_(on_entry == OutputsOnEntry::Anything) {}
  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    KernelSpec spec{node_, inputs_, {}, outputs_, threads_};
    fn_(spec, in, out);
  }
  bool overwrites_outputs() const override { return overwrites_; }

 private:
  const ir::Node& node_;
  std::vector<ir::TensorType> inputs_;
  std::vector<ir::TensorType> outputs_;
  int threads_;
  KernelFn fn_;
  bool overwrites_;
};
}  // namespace

std::unique_ptr<Kernel> make_function_kernel(const KernelSpec& spec, KernelFn fn, OutputsOnEntry outputs) {
  return std::make_unique<FunctionKernel>(spec, std::move(fn), outputs);
}

}  // namespace fc::runtime::cpu
