// LLVM IR emission of a FusedKernel, shared by the CPU JIT (jit.cpp) and the PTX emitter (ptx.cpp).
//
// CPU form: one function over a range of the flat output index (of rows, for a row kernel), so the
// runtime can split the elements across threads:
//   void name(const float* const* inputs, float* const* outputs, int64_t begin, int64_t end)
// The loop runs over rows of the simplified loop nest (make_loop_nest): per row, each input's base
// offset is computed from the row's coordinates with constant strides; the inner loop walks the
// innermost dim, where every input is either contiguous (stride 1) or broadcast (stride 0), so it
// is a plain counted loop the LLVM loop vectoriser turns into AVX2 code. Its loads and stores carry
// llvm.loop.parallel_accesses: iterations are independent even when an output aliases an input
// in place (w = w - lr * v), so the vectoriser needs no runtime alias checks and never falls back
// to scalar code for in-place kernels. An output may alias an input only if that input has the full
// output shape (then element i is read before element i is written, in the same iteration).
//
// Math: by default exp/log/tanh (and sigmoid through exp) are emitted inline (vector_math.h): plain
// IEEE operations the vectoriser widens, identical in the vector loop and its scalar remainder, so
// every element's result is independent of how the range is split, within 2-3 ulp of glibc.
// MathTarget::kCpuLibm instead calls libm (llvm.exp/llvm.log intrinsics, tanhf): glibc's results, but
// loops containing them stay scalar. No fast-math flags anywhere: add/mul/div/sqrt/fma are exactly
// the IEEE operations written, never reassociated or contracted.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ir/fused_kernel.h"

namespace llvm {
class Function;
class IRBuilderBase;
class LLVMContext;
class Module;
class TargetMachine;
class Value;
}  // namespace llvm

namespace fc::codegen {

// The kernel description lives in ir/ (the fusion pass builds it); codegen only emits it.
using ir::evaluate_reference;
using ir::FusedKernel;
using ir::Instr;
using ir::LoopNest;
using ir::make_loop_nest;
using ir::op_arity;
using ir::op_name;
using ir::ScalarOp;

// The CPU kernel's C signature.
using KernelFn = void (*)(const float* const* inputs, float* const* outputs, int64_t begin, int64_t end);

// Part of every disk cache key (jit.cpp). The key also hashes the emitted IR, so a change to what is
// emitted needs no bump; bump it when optimisation or object emission changes.
inline constexpr int kEmitterVersion = 8;

// How transcendental ops are lowered.
enum class MathTarget {
  kCpu,      // inline polynomials (vector_math.h): vectorisable
  kCpuLibm,  // llvm.exp / llvm.log intrinsics and tanhf: libm calls, scalar loops
  kNvptx,  // libdevice: __nv_expf, __nv_logf, __nv_tanhf (linked in by ptx.cpp)
};

// Adds the CPU range function `name` to `m` (the module's data layout/triple should already be set).
llvm::Function* emit_cpu_kernel(llvm::Module& m, const FusedKernel& k, const std::string& name,
                                MathTarget math = MathTarget::kCpu);

// Runs the new pass manager's default O3 pipeline with `tm`'s target information (cost model,
// vector width), as clang -O3 would for that target.
void optimize_module(llvm::Module& m, llvm::TargetMachine& tm);

// Object file (CPU) or assembly (PTX) of `m` for `tm`. Throws fc::Error on failure.
std::string emit_object(llvm::Module& m, llvm::TargetMachine& tm);
std::string emit_assembly(llvm::Module& m, llvm::TargetMachine& tm);

// The module's textual IR (debugging, tests).
std::string module_text(const llvm::Module& m);

// Emits the straight-line program at `b`'s insertion point and returns the output values (in output
// order). `load(i)` must return input i's element for the current index; it is called where the
// program loads (all loads come before the caller's stores). `param(j)` returns the value of
// instruction j, a `param` (a table element: the caller may load it once, outside any loop).
std::vector<llvm::Value*> emit_scalar_program(llvm::IRBuilderBase& b, const FusedKernel& k, MathTarget math,
                                              const std::function<llvm::Value*(int input)>& load,
                                              const std::function<llvm::Value*(size_t instr)>& param);

// Loads every `param` of k at b's insertion point from the table pointers `tables` (indexed by
// input; only tables are read): instruction index -> value, nullptr for other instructions.
std::vector<llvm::Value*> emit_param_loads(llvm::IRBuilderBase& b, const FusedKernel& k,
                                           const std::vector<llvm::Value*>& tables);

// Row kernels (FusedKernel::is_row_kernel): emits row `row` at b's insertion point and leaves b after
// it. Per row: the row-level values, then one loop over the row per reduction (ir::kRowLanes
// partial results in a stack array, in the order ir/fused_kernel.h defines: per chunk of kRowLanes
// columns an inner loop over the lanes, kept from unrolling so that the loop vectoriser widens it),
// then one loop storing the element outputs, declared parallel so that it vectorises; row-level outputs are stored at [row]. `inputs`/`outputs` are the
// tensors' base pointers (float*; int64 inputs are cast here), `params` emit_param_loads' values.
// Used by the CPU range function (a loop over rows) and by PTX (one row per thread).
void emit_row(llvm::IRBuilderBase& b, const FusedKernel& k, const LoopNest& nest, MathTarget math, llvm::Value* row,
              const std::vector<llvm::Value*>& inputs, const std::vector<llvm::Value*>& outputs,
              const std::vector<llvm::Value*>& params);

// Input `input`'s pointer with its element type: float* as given, or cast to int64* for a load_i64
// input.
llvm::Value* typed_input(llvm::IRBuilderBase& b, const FusedKernel& k, llvm::Value* ptr, int input);
// Loads element `offset` (nullptr: element 0) of input `input` through its typed pointer, as float.
llvm::Value* load_element(llvm::IRBuilderBase& b, const FusedKernel& k, llvm::Value* typed, int input,
                          llvm::Value* offset);

// Each input's element offset for a flat `index` over the nest's first `dims` dims (outermost
// first): the index is split into coordinates (constant divisors) and each coordinate times the
// input's stride summed. Both the CPU kernel (per row: the outer dims) and PTX (per element: all
// dims) address inputs this way.
std::vector<llvm::Value*> emit_input_offsets(llvm::IRBuilderBase& b, const LoopNest& nest, llvm::Value* index,
                                             size_t dims);

}  // namespace fc::codegen
