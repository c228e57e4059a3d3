// CPU kernels for fc.SoftmaxGrad and fc.LogSoftmaxGrad. dy, y, dx: [outer, D, inner] (D = the axis).
//   Softmax:    dx = y * (dy - s),       s = sum_D(dy * y)
//   LogSoftmax: dx = dy - exp(y) * s,    s = sum_D(dy)
// The same work items as the forward (outer index, chunk of inner lanes): two passes over a lane's D
// elements, which stay in cache; axis = -1 (inner = 1) is a separate loop vectorised along the row.
// s is accumulated and dx evaluated in double, rounded once. The sum's order differs between the
// vectorised and lane loops but not with the thread count.
#include <algorithm>
#include <cmath>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"

namespace fc::runtime::cpu {
namespace {

constexpr int64_t kLaneChunk = 128;

template <bool kLog>
void softmax_grad(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const std::vector<int64_t>& dims = in[1]->dims();
  FC_CHECK(in[0]->dims() == dims, s.node.describe(), ": dy and y differ in shape");
  const int64_t axis = ir::normalize_axis(s.node.attr_int("axis"), static_cast<int64_t>(dims.size()), s.node.describe());
  const int64_t outer = ir::product(dims, 0, axis), d_len = dims[axis], inner = ir::product(dims, axis + 1);
  const float* dy = in[0]->data<float>();
  const float* y = in[1]->data<float>();
  float* dx = out[0].data<float>();
  if (inner == 1) {  // axis = -1: contiguous rows, vectorised along the row
#pragma omp parallel for schedule(static) if (outer * d_len > kParallelMinElements / 4)
    for (int64_t o = 0; o < outer; ++o) {
      const float* dyr = dy + o * d_len;
      const float* yr = y + o * d_len;
      float* dxr = dx + o * d_len;
      double sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t d = 0; d < d_len; ++d) sum += kLog ? double(dyr[d]) : double(dyr[d]) * yr[d];
      if constexpr (kLog) {
        for (int64_t d = 0; d < d_len; ++d) dxr[d] = static_cast<float>(dyr[d] - std::exp(double(yr[d])) * sum);
      } else {
#pragma omp simd
        for (int64_t d = 0; d < d_len; ++d) dxr[d] = static_cast<float>(yr[d] * (dyr[d] - sum));
      }
    }
    return;
  }
  const int64_t chunks = (inner + kLaneChunk - 1) / kLaneChunk;
#pragma omp parallel for schedule(static) if (outer * d_len * inner > kParallelMinElements / 4)
  for (int64_t item = 0; item < outer * chunks; ++item) {
    const int64_t o = item / chunks, i0 = (item % chunks) * kLaneChunk;
    const int64_t nl = std::min(kLaneChunk, inner - i0);
    const int64_t start = o * d_len * inner + i0;  // lane l, position d: [start + d * inner + l]
    const float* dys = dy + start;
    const float* ys = y + start;
    float* dxs = dx + start;
    double sum[kLaneChunk];
    std::fill(sum, sum + nl, 0.0);
    for (int64_t d = 0; d < d_len; ++d)
      for (int64_t l = 0; l < nl; ++l) {
        const int64_t k = d * inner + l;
        sum[l] += kLog ? double(dys[k]) : double(dys[k]) * ys[k];
      }
    for (int64_t d = 0; d < d_len; ++d)
      for (int64_t l = 0; l < nl; ++l) {
        const int64_t k = d * inner + l;
        dxs[k] = static_cast<float>(kLog ? dys[k] - std::exp(double(ys[k])) * sum[l] : ys[k] * (dys[k] - sum[l]));
      }
  }
}

}  // namespace

FC_REGISTER_CPU_FN("fc::SoftmaxGrad", softmax_grad<false>);
FC_REGISTER_CPU_FN("fc::LogSoftmaxGrad", softmax_grad<true>);

}  // namespace fc::runtime::cpu
