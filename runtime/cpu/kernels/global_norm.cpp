// CPU kernel for fc.GlobalNorm: squares summed in double, input after input and element after
// element (one fixed order: the same bits at any thread count), the square root rounded to float once.
#include <cmath>

#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

void global_norm(const KernelSpec&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  double sum = 0;
  for (const Tensor* t : in) {
    const float* x = t->data<float>();
    for (size_t e = 0; e < t->numel(); ++e) sum += double(x[e]) * double(x[e]);
  }
  out[0].data<float>()[0] = static_cast<float>(std::sqrt(sum));
}

}  // namespace

FC_REGISTER_CPU_FN("fc::GlobalNorm", global_norm);

}  // namespace fc::runtime::cpu
