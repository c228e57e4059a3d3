// PTX for a FusedKernel, through LLVM's NVPTX target, for the future CUDA backend. No GPU is needed
// to produce it; tests check it with ptxas.
//
// The kernel is a __global__ function with one pointer per input, then one per output, then the
// element count:
//   .visible .entry <name>(.param .u64 in0, ..., .param .u64 out0, ..., .param .u64 n)
// Thread index = blockIdx.x * blockDim.x + threadIdx.x computes that one output element if it is
// below n (launch ceil(n / blockDim.x) blocks); broadcast input offsets come from the index with
// constant divisors. A row kernel (FusedKernel::is_row_kernel) takes the row count as n instead and
// runs one row per thread (emit_row: the CPU's row code; simple, not yet a block-wide reduction).
// Same scalar program as the CPU kernel (llvm_emit.h); exp/log/tanh call
// libdevice (__nv_expf, __nv_logf, __nv_tanhf: CUDA's accurate versions), linked in from
// libdevice_path only when the kernel uses them.
#pragma once

#include <string>

#include "codegen/llvm_emit.h"  // (FusedKernel, from ir/)

namespace fc::codegen {

struct PtxOptions {
  // sm_75 (Turing): the oldest GPU CUDA 13's ptxas still accepts (it dropped sm_70); LLVM 14 knows
  // up to sm_86.
  std::string arch = "sm_75";
  std::string libdevice_path = "/usr/local/cuda/nvvm/libdevice/libdevice.10.bc";
};

// PTX text of the kernel named `name`. Throws fc::Error (e.g. libdevice needed but missing).
std::string emit_ptx(const FusedKernel& kernel, const std::string& name, const PtxOptions& options = {});

}  // namespace fc::codegen
