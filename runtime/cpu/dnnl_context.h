// One oneDNN CPU engine and stream per process, shared by every oneDNN-backed kernel, plus helpers
// to wrap our tensors as oneDNN memory without copies, to move activations between our plain
// row-major layout and the (blocked) layout a primitive chose, and to turn oneDNN's exceptions into
// fc::Error naming the node.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "support/error.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace fc::runtime::cpu {

dnnl::engine& dnnl_engine();
dnnl::stream& dnnl_stream();

// Plain (row-major) memory descriptor for the given dims, f32 unless told.
dnnl::memory::desc plain_desc(const std::vector<int64_t>& dims,
                              dnnl::memory::data_type type = dnnl::memory::data_type::f32);
// Descriptor with explicit strides (transposed or broadcast views of a plain buffer), f32 unless told.
dnnl::memory::desc strided_desc(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                                dnnl::memory::data_type type = dnnl::memory::data_type::f32);
// Descriptor letting the primitive choose the layout (format_tag::any), f32 unless told.
dnnl::memory::desc any_desc(const std::vector<int64_t>& dims,
                            dnnl::memory::data_type type = dnnl::memory::data_type::f32);
// oneDNN's element type for F32 or BF16 (KernelSpec::product_operands).
dnnl::memory::data_type dnnl_type(ir::DType t);
dnnl::memory::dims to_dnnl_dims(const std::vector<int64_t>& v);
// Wraps a tensor's storage (no copy). The tensor must outlive the returned memory's use.
dnnl::memory wrap(const ir::Tensor& t, const dnnl::memory::desc& desc);

// Runs `f` (oneDNN primitive creation or execution), turning a dnnl::error into a one-line
// fc::Error naming the node.
template <typename F>
auto dnnl_checked(const ir::Node& node, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    fail(node.describe(), ": oneDNN: ", e.what());
  }
}

// Executes a primitive on the shared stream and waits for it.
void execute(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args);

// One tensor argument of a primitive, between our plain layout and the layout the primitive chose.
// When they differ, a reorder primitive is made once, and the values in the chosen layout live in
// a scratch buffer that every kernel's bridge with the same slot shares: the bridges of a kernel
// take slots 0, 1, 2... in the order the kernel builds them (begin_kernel_build resets the count),
// and a slot's contents only matter during one run() of one kernel, since kernels of one thread run
// one at a time. (A buffer per bridge held a copy of every activation in blocked layout for as
// long as the plan lived: ~500 MiB for ResNet-18 at batch 64.)
void begin_kernel_build();

class LayoutBridge {
 public:
  enum class Dir { In, Out };
  LayoutBridge() = default;
  LayoutBridge(const dnnl::memory::desc& plain, const dnnl::memory::desc& chosen, Dir dir);

  bool reorders() const { return static_cast<bool>(scratch_); }
  // Input: memory in the chosen layout holding t's values (t itself when no reorder is needed).
  dnnl::memory input(const ir::Tensor& t);
  // Output: memory for the primitive to write; call output_done(t) after executing it.
  dnnl::memory output(ir::Tensor& t);
  void output_done(ir::Tensor& t);

 private:
  // scratch_ pointed at this thread's buffer of slot_ (grown to the chosen layout's size).
  dnnl::memory& scratch();
  dnnl::memory::desc plain_, chosen_;
  dnnl::memory scratch_;
  dnnl::reorder reorder_;
  size_t slot_ = 0;
};

// A constant (parameter) tensor kept in the layout a primitive chose: reordered once when the
// kernel is built, and again only when the parameter is replaced by a tensor with other storage
// (values written in place into the same storage are not seen: such a change needs a new kernel).
class ReorderedConstant {
 public:
  ReorderedConstant() = default;
  ReorderedConstant(const ir::Tensor& t, const dnnl::memory::desc& plain, const dnnl::memory::desc& chosen);
  explicit operator bool() const { return static_cast<bool>(mem_); }
  // The reordered memory for `current`, the parameter's tensor at this run.
  const dnnl::memory& get(const ir::Tensor& current);

 private:
  void reorder_from(const ir::Tensor& t);
  dnnl::memory::desc plain_;
  dnnl::memory mem_;
  dnnl::reorder reorder_;
  ir::Tensor source_;  // shares the reordered tensor's storage, so its address cannot be reused
};

}  // namespace fc::runtime::cpu
