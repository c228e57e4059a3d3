// What the process's LLVM JIT did for the fc.Fused kernels built so far (runtime/cpu/kernels/
// fused.cpp): kernels compiled, linked from the disk cache, and reused within the process. A second
// start of the same plan shows compiled == 0.
#pragma once

#include <cstdint>

namespace fc::runtime::cpu {

struct JitCounts {
  int64_t compiled = 0;
  int64_t loaded = 0;
  int64_t reused = 0;
};

JitCounts jit_counts();

}  // namespace fc::runtime::cpu
