// CPU kernel for fc.SumToShapeOf. grad: broadcast shape [d0..dr-1]; out: like's shape (same rank
// after left-padding with 1s). Accumulates in double so bias gradients over large N*H*W stay exact.
#include <vector>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

void sum_to_shape_of(const KernelSpec&, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& g = *in[0];
  Tensor& y = out[0];
  const size_t r = g.rank();
  std::vector<int64_t> ydims(r, 1);
  for (size_t i = 0; i < y.rank(); ++i) ydims[r - y.rank() + i] = y.dim(i);
  // Stride of each grad dimension in the output (0 where the output was broadcast).
  std::vector<int64_t> ys = ir::strides_of(ydims), ostride(r);
  for (size_t i = 0; i < r; ++i) ostride[i] = ydims[i] == 1 ? 0 : ys[i];
  std::vector<double> acc(y.numel(), 0.0);
  const float* gp = g.data<float>();
  // Walk grad in row-major order with an odometer over all but the last dimension.
  const int64_t inner = r ? g.dim(r - 1) : 1, inner_stride = r ? ostride[r - 1] : 0;
  std::vector<int64_t> idx(r, 0);
  const size_t outer = inner ? g.numel() / inner : 0;
  for (size_t o = 0; o < outer; ++o) {
    int64_t base = 0;
    for (size_t d = 0; d + 1 < r; ++d) base += idx[d] * ostride[d];
    const float* row = gp + o * inner;
    if (inner_stride == 0) {
      double s = 0;
      for (int64_t k = 0; k < inner; ++k) s += row[k];
      acc[base] += s;
    } else {
      for (int64_t k = 0; k < inner; ++k) acc[base + k * inner_stride] += row[k];
    }
    for (size_t d = r - 1; d-- > 0;) {
      if (++idx[d] < g.dim(d)) break;
      idx[d] = 0;
    }
  }
  float* yp = y.data<float>();
  for (size_t i = 0; i < acc.size(); ++i) yp[i] = static_cast<float>(acc[i]);
}

}  // namespace

FC_REGISTER_CPU_FN_OVERWRITING("fc::SumToShapeOf", sum_to_shape_of);

}  // namespace fc::runtime::cpu
