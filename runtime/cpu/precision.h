// [runtime] precision on this CPU: which element type convolutions and matrix products multiply in.
#pragma once

#include <string>

#include "ir/dtype.h"

namespace fc::runtime::cpu {

// "fp32" -> F32. "bf16" -> BF16 where the CPU multiplies bf16 natively (AMX or AVX512-BF16, as
// oneDNN sees it, so DNNL_MAX_CPU_ISA limits it too); elsewhere F32, and `note` gets one line
// saying so and naming the CPU (bf16 emulated in fp32 would be slower than fp32 itself).
ir::DType product_operands_for(const std::string& precision, std::string* note);

// The CPU's model name from /proc/cpuinfo ("unknown CPU" when it has none).
std::string cpu_model_name();

}  // namespace fc::runtime::cpu
