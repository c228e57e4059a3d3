// CPU kernels for dropout that drops: fc.DropoutTraining (training graphs; x, y, scale: same shape;
// rng: i64[2] = [seed, step]) and ONNX's Dropout with training_mode=1 in a graph run as it is
// (`fcrun infer`; y and the bool mask; keyed by the node's `seed` attribute and the run's count).
// Inference-mode Dropout is a view (movement_views.cpp).
#include <cstdint>

#include "runtime/cpu/kernel_registry.h"
#include "runtime/data/random.h"

namespace fc::runtime::cpu {
namespace {

using data::splitmix64;  // the data pipeline's: dropout masks are keyed like sample orders

// y = x * keep / (1 - ratio), element i kept when the top 24 bits of splitmix64(key + i), as a
// uniform in [0,1), are >= ratio; on_element(i, keep, scale) records the mask in the caller's form.
template <typename OnElement>
void drop(const float* x, float* y, int64_t n, float ratio, uint64_t key, OnElement on_element) {
  const float keep_scale = 1.0f / (1.0f - ratio);
  const uint64_t threshold = static_cast<uint64_t>(double(ratio) * double(1 << 24));
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = (splitmix64(key + uint64_t(i)) >> 40) >= threshold;
    const float scale = keep ? keep_scale : 0.0f;
    on_element(i, keep, scale);
    y[i] = x[i] * scale;
  }
}

void dropout(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const int64_t* rng = in[1]->data<int64_t>();
  const uint64_t key = splitmix64(splitmix64(splitmix64(uint64_t(rng[0])) ^ uint64_t(rng[1])) ^
                                  uint64_t(s.node.attr_int("stream")));
  float* scale = out[1].data<float>();
  drop(in[0]->data<float>(), out[0].data<float>(), static_cast<int64_t>(out[0].numel()), s.node.attr_float("ratio"),
       key, [scale](int64_t i, bool, float sc) { scale[i] = sc; });
}

// ONNX Dropout, training_mode=1: every run draws a new mask (run r of seed s keyed as (s, r)).
class OnnxTrainingDropoutKernel : public Kernel {
 public:
  explicit OnnxTrainingDropoutKernel(const KernelSpec& spec)
      : node_(spec.node), seed_(spec.node.has_attr("seed") ? uint64_t(spec.node.attr_int("seed")) : 0) {
    FC_CHECK(spec.inputs[0].dtype == ir::DType::F32, node_.describe(), ": training_mode=1 takes f32 data, got ",
             ir::dtype_name(spec.inputs[0].dtype));
    const float ratio = node_.attr_float("ratio");
    FC_CHECK(ratio >= 0.0f && ratio < 1.0f, node_.describe(), ": ratio ", ratio, " is outside [0, 1)");
  }
  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    bool* mask = out.size() > 1 ? out[1].data<bool>() : nullptr;
    drop(in[0]->data<float>(), out[0].data<float>(), static_cast<int64_t>(out[0].numel()), node_.attr_float("ratio"),
         splitmix64(splitmix64(seed_) ^ runs_++), [mask](int64_t i, bool keep, float) {
           if (mask) mask[i] = keep;
         });
  }

 private:
  const ir::Node& node_;
  const uint64_t seed_;
  uint64_t runs_ = 0;
};

}  // namespace

FC_REGISTER_CPU_FN("fc::DropoutTraining", dropout);

std::unique_ptr<Kernel> make_onnx_training_dropout(const KernelSpec& spec) {
  return std::make_unique<OnnxTrainingDropoutKernel>(spec);
}

}  // namespace fc::runtime::cpu
