// CPU kernel for fc.Fused (ir/ops/fused.cpp): the node's scalar program at the node's concrete
// shapes, compiled to native code by the LLVM JIT (codegen/jit.h) once, when the kernel is built,
// never per step. The JIT's disk cache makes a second start of the same plan compile nothing.
// Each step splits the output's elements into one contiguous chunk per thread (results never depend
// on the split: codegen/README.md).
//
// FC_JIT=0 runs the program through the plain C++ evaluator instead (ir/fused_kernel.h): slow, for
// bisecting a suspected miscompile.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "codegen/jit.h"
#include "runtime/cpu/fused_jit.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {

namespace {

codegen::Jit& process_jit() {
  static codegen::Jit jit;
  return jit;
}

bool jit_disabled() {
  const char* v = std::getenv("FC_JIT");
  return v && std::strcmp(v, "0") == 0;
}

// Elements per chunk: enough to amortise a thread's start, a multiple of a cache line of floats.
constexpr int64_t kMinChunk = 16384;

class FusedCpuKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit FusedCpuKernel(const KernelSpec& spec) : threads_(std::max(1, spec.threads)) {
    std::vector<std::vector<int64_t>> in_shapes;
    for (const ir::TensorType& t : spec.inputs) in_shapes.push_back(t.sizes());
    try {
      kernel_ = ir::FusedKernel::from_body(spec.node.attr_string("program"), spec.outputs.at(0).sizes(), in_shapes);
    } catch (const Error& e) {
      fail(spec.node.describe(), ": ", e.what());
    }
    if (!jit_disabled()) fn_ = process_jit().compile(kernel_);
    // The split depends on shapes and threads only: fixed here, not worked out every step.
    n_ = kernel_.numel();
    chunk_ = std::max(kMinChunk, ((n_ + threads_ - 1) / threads_ + 15) / 16 * 16);
    chunks_ = (n_ + chunk_ - 1) / chunk_;
    in_.resize(spec.inputs.size());
    out_.resize(spec.outputs.size());
  }

  void run(const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) override {
    for (size_t i = 0; i < inputs.size(); ++i) in_[i] = inputs[i]->data<float>();
    for (size_t o = 0; o < outputs.size(); ++o) out_[o] = outputs[o].data<float>();
    const float* const* in = in_.data();
    float* const* out = out_.data();
#pragma omp parallel for num_threads(threads_) if (chunks_ > 1)
    for (int64_t c = 0; c < chunks_; ++c) {
      const int64_t begin = c * chunk_, end = std::min(n_, begin + chunk_);
      if (fn_) fn_(in, out, begin, end);
      else ir::evaluate_reference(kernel_, in, out, begin, end);
    }
  }

 private:
  ir::FusedKernel kernel_;
  codegen::KernelFn fn_ = nullptr;
  int threads_;
  int64_t n_ = 0, chunk_ = 1, chunks_ = 0;
  std::vector<const float*> in_;  // the step's data pointers (no allocation per step)
  std::vector<float*> out_;
};

}  // namespace

codegen::JitStats jit_stats() { return process_jit().stats(); }

FC_REGISTER_CPU_KERNEL("fc::Fused", [](const KernelSpec& s) { return std::make_unique<FusedCpuKernel>(s); });

}  // namespace fc::runtime::cpu
