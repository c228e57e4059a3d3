// CPU kernels that run a scalar program (ir/fused_kernel.h) compiled to native code by the LLVM JIT
// (codegen/jit.h) once, when the kernel is built, never per step; the JIT's disk cache makes a
// second start of the same plan compile nothing:
//   - fc.Fused (ir/ops/fused.cpp): the node's program at the node's concrete shapes;
//   - fc.HorizontalFused (ir/ops/horizontal_fused.cpp): one program over many flat segments (a
//     bucket's optimizer updates), compiled once at the longest segment's length;
//   - the optimizer updates themselves (fc.SGDUpdate, fc.AdamWUpdate): their scalar form
//     (ir/scalar_form.h), so an unfused update runs exactly the code a fused one does.
// Each step splits the elements of all segments together into one contiguous share per thread;
// results never depend on the split (codegen/README.md).
//
// FC_JIT=0 runs the program through the plain C++ evaluator instead (fused_jit.h).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "codegen/jit.h"
#include "ir/scalar_form.h"
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

}  // namespace

codegen::KernelFn compile_program(const ir::FusedKernel& k) {
  return jit_disabled() ? nullptr : process_jit().compile(k);
}

void run_program(const ir::FusedKernel& k, codegen::KernelFn fn, const float* const* inputs, float* const* outputs,
                 int64_t begin, int64_t end) {
  if (fn) fn(inputs, outputs, begin, end);
  else ir::evaluate_reference(k, inputs, outputs, begin, end);
}

namespace {

// Elements per thread below which another thread costs more than it saves.
constexpr int64_t kMinShare = 16384;

// Segment s of a node: its kernel inputs are node inputs [s * inputs, (s + 1) * inputs), its outputs
// node outputs [s * outputs, ...), and it has `numel` elements.
struct Segments {
  size_t count = 1, inputs = 0, outputs = 0;
  std::vector<int64_t> numel;
};

class JitProgramKernel : public Kernel {
 public:
  JitProgramKernel(const KernelSpec& spec, ir::FusedKernel kernel, Segments segs)
      : kernel_(std::move(kernel)), segs_(std::move(segs)) {
    // Elements are split across threads below; a row kernel's range counts rows.
    FC_CHECK(!kernel_.is_row_kernel(), spec.node.describe(),
             ": row reductions (row_max, row_sum, column) are not supported in this node's program");
    fn_ = compile_program(kernel_);
    in_.resize(segs_.count * segs_.inputs);
    out_.resize(segs_.count * segs_.outputs);
    // Each thread's share of all segments' elements together: fixed here, not worked out per step.
    int64_t total = 0;
    for (int64_t n : segs_.numel) total += n;
    const int64_t threads = std::clamp<int64_t>(total / kMinShare, 1, std::max(1, spec.threads));
    // Share t is [bound(t), bound(t + 1)): boundaries on a multiple of 16 elements (a cache line of
    // floats), the last at the end.
    auto bound = [&](int64_t t) {
      return t == threads ? total : std::min(total, (total * t / threads + 15) / 16 * 16);
    };
    int64_t seg = 0, at = 0;  // next element to hand out: segment seg, element at
    for (int64_t t = 0; t < threads; ++t) {
      int64_t left = bound(t + 1) - bound(t);
      std::vector<Piece> share;
      while (left > 0 && seg < static_cast<int64_t>(segs_.count)) {
        const int64_t take = std::min(left, segs_.numel[static_cast<size_t>(seg)] - at);
        if (take > 0) share.push_back({static_cast<size_t>(seg), at, at + take});
        left -= take;
        at += take;
        if (at == segs_.numel[static_cast<size_t>(seg)]) ++seg, at = 0;
      }
      if (!share.empty()) shares_.push_back(std::move(share));
    }
  }

  bool overwrites_outputs() const override { return true; }

  void run(const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) override {
    for (size_t i = 0; i < inputs.size(); ++i) in_[i] = inputs[i]->data<float>();
    for (size_t o = 0; o < outputs.size(); ++o) out_[o] = outputs[o].data<float>();
    const int64_t n = static_cast<int64_t>(shares_.size());
#pragma omp parallel for num_threads(static_cast<int>(n)) schedule(static, 1) if (n > 1)
    for (int64_t t = 0; t < n; ++t)
      for (const Piece& p : shares_[static_cast<size_t>(t)]) {
        const float* const* in = in_.data() + p.segment * segs_.inputs;
        float* const* out = out_.data() + p.segment * segs_.outputs;
        run_program(kernel_, fn_, in, out, p.begin, p.end);
      }
  }

 private:
  struct Piece {
    size_t segment;
    int64_t begin, end;
  };
  ir::FusedKernel kernel_;
  codegen::KernelFn fn_ = nullptr;
  Segments segs_;
  std::vector<std::vector<Piece>> shares_;  // one per thread
  std::vector<const float*> in_;            // the step's data pointers (no allocation per step)
  std::vector<float*> out_;
};

std::vector<std::vector<int64_t>> input_shapes(const KernelSpec& spec) {
  std::vector<std::vector<int64_t>> shapes;
  for (const ir::TensorType& t : spec.inputs) shapes.push_back(t.sizes());
  return shapes;
}

// The whole node as one segment.
Segments one_segment(const KernelSpec& spec, const ir::FusedKernel& k) {
  return Segments{1, spec.inputs.size(), spec.outputs.size(), {k.numel()}};
}

std::unique_ptr<Kernel> fused_kernel(const KernelSpec& spec) {
  ir::FusedKernel k;
  try {
    k = ir::FusedKernel::from_body(spec.node.attr_string("program"), spec.outputs.at(0).sizes(), input_shapes(spec));
  } catch (const Error& e) {
    fail(spec.node.describe(), ": ", e.what());
  }
  Segments segs = one_segment(spec, k);
  return std::make_unique<JitProgramKernel>(spec, std::move(k), std::move(segs));
}

std::unique_ptr<Kernel> horizontal_kernel(const KernelSpec& spec) {
  Segments segs;
  segs.count = static_cast<size_t>(spec.node.attr_int("segments"));
  segs.inputs = spec.inputs.size() / segs.count;
  segs.outputs = spec.outputs.size() / segs.count;
  int64_t longest = 0;
  for (size_t s = 0; s < segs.count; ++s) {
    segs.numel.push_back(spec.outputs[s * segs.outputs].numel());
    longest = std::max(longest, segs.numel.back());
  }
  // Loaded inputs flat at the longest segment's length (a shorter segment runs a prefix of the
  // range: the code is the same for every length), tables at segment 0's shapes.
  const std::string program = spec.node.attr_string("program");
  const ir::FusedKernel shape_free = ir::FusedKernel::program_of(program, static_cast<int>(segs.inputs));
  std::vector<std::vector<int64_t>> shapes;
  for (size_t i = 0; i < segs.inputs; ++i)
    shapes.push_back(shape_free.is_loaded(static_cast<int>(i)) ? std::vector<int64_t>{longest}
                                                               : spec.inputs[i].sizes());
  ir::FusedKernel k = ir::FusedKernel::from_body(program, {longest}, shapes);
  return std::make_unique<JitProgramKernel>(spec, std::move(k), std::move(segs));
}

// An op with a scalar form and no hand-written kernel.
std::unique_ptr<Kernel> scalar_form_kernel(const KernelSpec& spec) {
  ir::FusedKernel k = ir::node_kernel(spec.node, input_shapes(spec), spec.outputs.at(0).sizes());
  Segments segs = one_segment(spec, k);
  return std::make_unique<JitProgramKernel>(spec, std::move(k), std::move(segs));
}

}  // namespace

codegen::JitStats jit_stats() { return process_jit().stats(); }

FC_REGISTER_CPU_KERNEL("fc::Fused", fused_kernel);
FC_REGISTER_CPU_KERNEL("fc::HorizontalFused", horizontal_kernel);
FC_REGISTER_CPU_KERNEL("fc::SGDUpdate", scalar_form_kernel);
FC_REGISTER_CPU_KERNEL("fc::AdamWUpdate", scalar_form_kernel);

}  // namespace fc::runtime::cpu
