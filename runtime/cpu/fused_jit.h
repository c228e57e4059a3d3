// The process's LLVM JIT for scalar programs (ir/fused_kernel.h), shared by every CPU kernel that runs
// one: fc.Fused, fc.HorizontalFused and the optimizer updates (kernels/fused.cpp), the softmax
// cross-entropy kernels (kernels/softmax_cross_entropy.cpp).
#pragma once

#include <cstdint>

#include "codegen/jit.h"

namespace fc::runtime::cpu {

// What the JIT did for the kernels built so far: compiled, linked from the disk cache, reused within
// the process. A second start of the same plan shows compiled == 0.
codegen::JitStats jit_stats();

// k compiled by the process's JIT (its disk cache first); nullptr when FC_JIT=0 asks for the plain
// C++ evaluator instead (slow: for bisecting a suspected miscompile).
codegen::KernelFn compile_program(const ir::FusedKernel& k);

// [begin, end) of k's range through `fn`, or through the evaluator when fn is null.
void run_program(const ir::FusedKernel& k, codegen::KernelFn fn, const float* const* inputs, float* const* outputs,
                 int64_t begin, int64_t end);

}  // namespace fc::runtime::cpu
