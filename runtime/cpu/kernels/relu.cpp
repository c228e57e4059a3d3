// CPU kernel for Relu. x, y: any shape, f32.
#include <algorithm>

#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

void relu(const KernelSpec&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const float* x = in[0]->data<float>();
  float* y = out[0].data<float>();
  const size_t n = out[0].numel();
#pragma omp parallel for simd if (n > 65536)
  for (size_t i = 0; i < n; ++i) y[i] = std::max(x[i], 0.0f);
}

}  // namespace

FC_REGISTER_CPU_FN_OVERWRITING("Relu", relu);

}  // namespace fc::runtime::cpu
