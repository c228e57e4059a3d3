// CPU kernels for Softmax and LogSoftmax along one axis. x, y: [outer, D, inner] (D = the axis).
// Numerically stable: every lane subtracts its maximum before exp; the sum of exponentials is
// accumulated in double, and outputs are evaluated in double (Softmax rounds exp(x - max) to float
// once before scaling), so results are at least as accurate as float implementations. Work items are (outer index, chunk of inner lanes),
// which keeps both axis = -1 (inner = 1, contiguous rows) and channel softmax (inner = H*W,
// contiguous lanes) streaming through memory.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"

namespace fc::runtime::cpu {
namespace {

constexpr int64_t kLaneChunk = 128;

template <bool kLog>
void softmax(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const std::vector<int64_t>& dims = in[0]->dims();
  const int64_t axis = ir::normalize_axis(s.node.attr_int("axis"), static_cast<int64_t>(dims.size()), s.node.describe());
  const int64_t outer = ir::product(dims, 0, axis), d_len = dims[axis], inner = ir::product(dims, axis + 1);
  const float* x = in[0]->data<float>();
  float* y = out[0].data<float>();
  const int64_t chunks = (inner + kLaneChunk - 1) / kLaneChunk;
#pragma omp parallel for schedule(static) if (outer * d_len * inner > kParallelMinElements / 4)
  for (int64_t item = 0; item < outer * chunks; ++item) {
    const int64_t o = item / chunks, i0 = (item % chunks) * kLaneChunk;
    const int64_t nl = std::min(kLaneChunk, inner - i0);
    const float* xs = x + o * d_len * inner + i0;  // lane l, position d: xs[d * inner + l]
    float* ys = y + o * d_len * inner + i0;
    float mx[kLaneChunk];
    double sum[kLaneChunk];
    std::fill(mx, mx + nl, -std::numeric_limits<float>::infinity());
    std::fill(sum, sum + nl, 0.0);
    for (int64_t d = 0; d < d_len; ++d)
      for (int64_t l = 0; l < nl; ++l) mx[l] = std::max(mx[l], xs[d * inner + l]);
    // Softmax keeps each exponential (rounded to float) in y and rescales it: one exp per element
    // and at most two roundings, still well inside float softmax error.
    for (int64_t d = 0; d < d_len; ++d)
      for (int64_t l = 0; l < nl; ++l) {
        const double e = std::exp(double(xs[d * inner + l]) - mx[l]);
        sum[l] += e;
        if (!kLog) ys[d * inner + l] = static_cast<float>(e);
      }
    for (int64_t l = 0; l < nl; ++l) sum[l] = kLog ? std::log(sum[l]) : 1.0 / sum[l];
    for (int64_t d = 0; d < d_len; ++d)
      for (int64_t l = 0; l < nl; ++l) {
        float& y_dl = ys[d * inner + l];
        y_dl = static_cast<float>(kLog ? double(xs[d * inner + l]) - mx[l] - sum[l] : double(y_dl) * sum[l]);
      }
  }
}

}  // namespace

FC_REGISTER_CPU_FN("Softmax", softmax<false>);
FC_REGISTER_CPU_FN("LogSoftmax", softmax<true>);

}  // namespace fc::runtime::cpu
