// What the process's LLVM JIT did for the fc.Fused kernels built so far (runtime/cpu/kernels/
// fused.cpp): kernels compiled, linked from the disk cache, and reused within the process. A second
// start of the same plan shows compiled == 0.
#pragma once

#include "codegen/jit.h"

namespace fc::runtime::cpu {

codegen::JitStats jit_stats();

}  // namespace fc::runtime::cpu
