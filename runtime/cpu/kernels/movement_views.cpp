// CPU kernels that copy nothing: Reshape, Flatten, Squeeze, Unsqueeze, Identity and inference
// Dropout return their input's storage under the output shape the op's shape function gave, and
// Constant returns its attribute tensor. Sharing is safe because kernels never write into their
// inputs (the executor hands every kernel fresh outputs); a later in-place buffer reuse pass must
// treat these outputs as aliases of their inputs.
#include <cstring>

#include "support/error.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {

std::unique_ptr<Kernel> make_onnx_training_dropout(const KernelSpec& spec);

namespace {

// y: a view of x with shape `dims` (from the shape function at this kernel's input shapes).
// Inference Dropout adds its optional mask output: bool, all true (nothing is dropped).
class ViewKernel : public Kernel {
 public:
  explicit ViewKernel(const KernelSpec& spec) : dims_(spec.outputs.at(0).sizes()) {
    if (spec.outputs.size() > 1) mask_dims_ = spec.outputs[1].sizes();
  }
  bool allocates_outputs() const override { return true; }
  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    out[0] = in[0]->reshaped(dims_);
    if (out.size() > 1) {
      out[1] = Tensor(ir::DType::Bool, mask_dims_);
      if (out[1].nbytes()) std::memset(out[1].raw(), 1, out[1].nbytes());  // bool true is byte 1
    }
  }

 private:
  std::vector<int64_t> dims_, mask_dims_;
};

std::unique_ptr<Kernel> make_view(const KernelSpec& spec) { return std::make_unique<ViewKernel>(spec); }

std::unique_ptr<Kernel> make_dropout(const KernelSpec& spec) {
  if (spec.node.attr_int("training_mode") != 0) return make_onnx_training_dropout(spec);  // dropout_training.cpp
  return make_view(spec);
}

class ConstantKernel : public Kernel {
 public:
  explicit ConstantKernel(const KernelSpec& spec) : value_(spec.node.attr_tensor("value")) {}
  bool allocates_outputs() const override { return true; }
  void run(const std::vector<const Tensor*>&, std::vector<Tensor>& out) override { out[0] = value_; }

 private:
  Tensor value_;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("Reshape", make_view);
FC_REGISTER_CPU_KERNEL("Flatten", make_view);
FC_REGISTER_CPU_KERNEL("Squeeze", make_view);
FC_REGISTER_CPU_KERNEL("Unsqueeze", make_view);
FC_REGISTER_CPU_KERNEL("Identity", make_view);
FC_REGISTER_CPU_KERNEL("Dropout", make_dropout);
FC_REGISTER_CPU_KERNEL("Constant", [](const KernelSpec& s) { return std::make_unique<ConstantKernel>(s); });

}  // namespace fc::runtime::cpu
