// CPU kernel for LayerNormalization (opset 17). x: [rows, D] with D = prod(dims[axis:]);
// scale, b: broadcastable to dims[axis:] (expanded to [D] when not already that size);
// y: like x; mean, inv_std_dev (optional outputs): [rows] (shaped dims[:axis] + 1s).
// Mean and variance are two-pass in double (lane_sum.h) and y is evaluated in double, rounded once.
#include <cmath>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"
#include "runtime/cpu/kernels/lane_sum.h"

namespace fc::runtime::cpu {
namespace {

void layer_norm(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const std::vector<int64_t>& dims = in[0]->dims();
  const int64_t axis = ir::normalize_axis(s.node.attr_int("axis"), static_cast<int64_t>(dims.size()), s.node.describe());
  const std::vector<int64_t> norm_dims(dims.begin() + axis, dims.end());
  const int64_t rows = ir::product(dims, 0, axis), d_len = ir::product(norm_dims);
  const double eps = s.node.attr_float("epsilon");
  Tensor scale_buf, bias_buf;
  const float* scale = expanded_to(in[1], norm_dims, scale_buf);
  const float* bias = expanded_to(in.size() > 2 ? in[2] : nullptr, norm_dims, bias_buf);
  const float* x = in[0]->data<float>();
  float* y = out[0].data<float>();
  float* mean_out = out.size() > 1 ? out[1].data<float>() : nullptr;
  float* inv_out = out.size() > 2 ? out[2].data<float>() : nullptr;
#pragma omp parallel for schedule(static) if (rows * d_len > kParallelMinElements)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d_len;
    float* yr = y + r * d_len;
    const double sum = lane_sum(d_len, [&](int64_t j) { return double(xr[j]); });
    const double mean = d_len ? sum / double(d_len) : 0.0;
    const double sq = lane_sum(d_len, [&](int64_t j) { return (xr[j] - mean) * (xr[j] - mean); });
    const double inv = 1.0 / std::sqrt((d_len ? sq / double(d_len) : 0.0) + eps);
    if (bias)
      for (int64_t j = 0; j < d_len; ++j) yr[j] = static_cast<float>((xr[j] - mean) * inv * scale[j] + bias[j]);
    else
      for (int64_t j = 0; j < d_len; ++j) yr[j] = static_cast<float>((xr[j] - mean) * inv * scale[j]);
    if (mean_out) mean_out[r] = static_cast<float>(mean);
    if (inv_out) inv_out[r] = static_cast<float>(inv);
  }
}

}  // namespace

FC_REGISTER_CPU_FN("LayerNormalization", layer_norm);

}  // namespace fc::runtime::cpu
