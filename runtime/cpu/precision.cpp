#include "runtime/cpu/precision.h"

#include <cstdlib>
#include <fstream>
#include <oneapi/dnnl/dnnl.hpp>

#include "support/error.h"

namespace fc::runtime::cpu {
namespace {

// oneDNN's ISA values are feature masks: an ISA includes another when it has all of its bits.
bool cpu_isa_includes(dnnl::cpu_isa have, dnnl::cpu_isa want) {
  const auto h = static_cast<unsigned>(have), w = static_cast<unsigned>(want);
  return (h & w) == w;
}

}  // namespace

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown CPU" : line.substr(start);
  }
  return "unknown CPU";
}

ir::DType product_operands_for(const std::string& precision, std::string* note) {
  if (precision == "fp32") return ir::DType::F32;
  FC_CHECK(precision == "bf16", "[runtime] precision: expected \"fp32\" or \"bf16\", got \"", precision, "\"");
  // AMX's ISA value includes AVX512-BF16's, so one test covers both.
  if (cpu_isa_includes(dnnl::get_effective_cpu_isa(), dnnl::cpu_isa::avx512_core_bf16)) return ir::DType::BF16;
  if (note) {
    *note = "[runtime] precision = \"bf16\": this CPU (" + cpu_model_name() + ") has neither AMX nor AVX512-BF16";
    for (const char* limit : {"DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA"})
      if (const char* v = std::getenv(limit)) *note += std::string(" (as limited by ") + limit + "=" + v + ")";
    *note += "; training in fp32";
  }
  return ir::DType::F32;
}

}  // namespace fc::runtime::cpu
