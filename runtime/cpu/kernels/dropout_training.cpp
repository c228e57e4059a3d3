// CPU kernel for fc.DropoutTraining. x, y, scale: same shape; rng: i64[2] = [seed, step].
#include <cstdint>

#include "runtime/cpu/kernel_registry.h"
#include "runtime/data/random.h"

namespace fc::runtime::cpu {
namespace {

using data::splitmix64;  // the data pipeline's: dropout masks are keyed like sample orders

void dropout(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const float* x = in[0]->data<float>();
  const int64_t* rng = in[1]->data<int64_t>();
  const float ratio = s.node.attr_float("ratio");
  const uint64_t key = splitmix64(splitmix64(splitmix64(uint64_t(rng[0])) ^ uint64_t(rng[1])) ^
                                  uint64_t(s.node.attr_int("stream")));
  const float keep_scale = 1.0f / (1.0f - ratio);
  // Keep when the top 24 bits, as a uniform in [0,1), are >= ratio.
  const uint64_t threshold = static_cast<uint64_t>(double(ratio) * double(1 << 24));
  float* y = out[0].data<float>();
  float* scale = out[1].data<float>();
  const int64_t n = static_cast<int64_t>(out[0].numel());
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = (splitmix64(key + uint64_t(i)) >> 40) >= threshold;
    scale[i] = keep ? keep_scale : 0.0f;
    y[i] = x[i] * scale[i];
  }
}

}  // namespace

FC_REGISTER_CPU_FN("fc::DropoutTraining", dropout);

}  // namespace fc::runtime::cpu
