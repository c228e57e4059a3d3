// CPU kernel for fc.LayerNormalizationGrad (formula in ir/ops/layer_norm.cpp).
// dy, x, dx: [rows, D] with D = prod(dims[axis:]); scale: broadcastable to dims[axis:] (expanded to
// [D]); mean, inv_std, dmean, dinv_std (optional): [rows]; dscale, db (optional outputs): [D].
//
// One pass over the rows: each row's statistics and sums are formed in double (lane_sum.h; sweeps
// over the row, which stays in cache) and dx is rounded once. dscale/db are column sums over rows: rows are
// cut into at most kMaxBlocks blocks fixed by the shape (not by the thread count), each block sums
// its rows into its own double partials, and the partials are added in block order, so the result
// is the same for any number of threads.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"
#include "runtime/cpu/kernels/lane_sum.h"

namespace fc::runtime::cpu {
namespace {

constexpr int64_t kMaxBlocks = 64;

const float* optional_input(const std::vector<const Tensor*>& in, size_t i) {
  return i < in.size() && in[i] ? in[i]->data<float>() : nullptr;
}

void layer_norm_grad(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const std::vector<int64_t>& dims = in[1]->dims();
  FC_CHECK(in[0]->dims() == dims, s.node.describe(), ": dY and X differ in shape");
  const int64_t axis = ir::normalize_axis(s.node.attr_int("axis"), static_cast<int64_t>(dims.size()), s.node.describe());
  const std::vector<int64_t> norm_dims(dims.begin() + axis, dims.end());
  const int64_t rows = ir::product(dims, 0, axis), d_len = ir::product(norm_dims);
  const double eps = s.node.attr_float("epsilon");
  Tensor scale_buf;
  const float* scale = expanded_to(in[2], norm_dims, scale_buf);
  const float* dy = in[0]->data<float>();
  const float* x = in[1]->data<float>();
  const float* saved_mean = optional_input(in, 3);
  const float* saved_inv = optional_input(in, 4);
  const float* dmean = optional_input(in, 5);
  const float* dinv = optional_input(in, 6);
  FC_CHECK(!saved_mean == !saved_inv, s.node.describe(), ": Mean and InvStdDev must be given together");
  float* dx = out[0].data<float>();
  const bool params = out.size() > 1;

  const int64_t rows_per_block = std::max<int64_t>(
      {int64_t{1}, (rows + kMaxBlocks - 1) / kMaxBlocks, d_len ? kChunkElements / d_len : int64_t{1}});
  const int64_t blocks = rows ? (rows + rows_per_block - 1) / rows_per_block : 0;
  // Per block: D partial sums of dy * xhat, then D of dy.
  std::vector<double> partial(params ? static_cast<size_t>(blocks * 2 * d_len) : 0, 0.0);
  const double inv_d = d_len ? 1.0 / double(d_len) : 0.0;

#pragma omp parallel for schedule(static) if (rows * d_len > kParallelMinElements)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    double* p_scale = params ? partial.data() + blk * 2 * d_len : nullptr;
    double* p_bias = params ? p_scale + d_len : nullptr;
    for (int64_t r = blk * rows_per_block; r < std::min(rows, (blk + 1) * rows_per_block); ++r) {
      const float* xr = x + r * d_len;
      const float* dyr = dy + r * d_len;
      float* dxr = dx + r * d_len;
      double mean, inv;
      if (saved_mean) {
        mean = saved_mean[r];
        inv = saved_inv[r];
      } else {
        mean = lane_sum(d_len, [&](int64_t j) { return double(xr[j]); }) * inv_d;
        const double sq = lane_sum(d_len, [&](int64_t j) { return (xr[j] - mean) * (xr[j] - mean); });
        inv = 1.0 / std::sqrt(sq * inv_d + eps);
      }
      const double sum_g = lane_sum(d_len, [&](int64_t j) { return double(dyr[j]) * scale[j]; });
      const double sum_gx =
          lane_sum(d_len, [&](int64_t j) { return double(dyr[j]) * scale[j] * ((xr[j] - mean) * inv); });
      const double a = sum_g * inv_d, bcoef = sum_gx * inv_d;
      // Terms of the gradients flowing into the Mean / InvStdDev outputs.
      const double c_mean = dmean ? dmean[r] * inv_d : 0.0;
      const double c_inv = dinv ? dinv[r] * inv * inv * inv_d : 0.0;
      // The column sums are a separate instantiation, so the row loop has no branch.
      auto finish_row = [&](auto with_params) {
        for (int64_t j = 0; j < d_len; ++j) {
          const double xhat = (xr[j] - mean) * inv;
          const double g = double(dyr[j]) * scale[j];
          dxr[j] = static_cast<float>(inv * (g - a - xhat * bcoef) + c_mean - c_inv * xhat);
          if constexpr (decltype(with_params)::value) {
            p_scale[j] += double(dyr[j]) * xhat;
            p_bias[j] += dyr[j];
          }
        }
      };
      if (params) finish_row(std::true_type{});
      else finish_row(std::false_type{});
    }
  }
  if (!params) return;
  float* dscale = out[1].data<float>();
  float* db = out.size() > 2 ? out[2].data<float>() : nullptr;
#pragma omp parallel for schedule(static) if (blocks * d_len > kParallelMinElements)
  for (int64_t j = 0; j < d_len; ++j) {
    double ss = 0, sb = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) {
      ss += partial[blk * 2 * d_len + j];
      sb += partial[blk * 2 * d_len + d_len + j];
    }
    dscale[j] = static_cast<float>(ss);
    if (db) db[j] = static_cast<float>(sb);
  }
}

}  // namespace

FC_REGISTER_CPU_FN("fc::LayerNormalizationGrad", layer_norm_grad);

}  // namespace fc::runtime::cpu
