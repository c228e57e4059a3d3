// CPU kernels of GatherND and fc.GatherNDGrad (ir/ops/gather_nd.cpp). Both walk the index tuples in
// order: batch i (the first batch_dims dims, shared by data and indices), tuple t, whose slice of
// data (the dims after the k indexed ones) is copied out, or has dy's slice added in.
#include <cstring>
#include <vector>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "support/error.h"

namespace fc::runtime::cpu {
namespace {

// Where each (batch, tuple) slice lies in data, in elements; checked (negative indices wrapped).
struct GatherNdGeometry {
  int64_t slice = 0;
  std::vector<int64_t> offsets;  // per tuple over all batches, in order
  GatherNdGeometry(const ir::Node& node, const Tensor& data, const Tensor& idx) {
    const int64_t b = node.attr_int("batch_dims");
    const int64_t k = idx.dim(idx.rank() - 1);
    slice = ir::product(data.dims(), b + k);
    const int64_t block = ir::product(data.dims(), b);  // one batch element of data
    const int64_t batches = ir::product(data.dims(), 0, b);
    const int64_t tuples = batches > 0 ? static_cast<int64_t>(idx.numel()) / k / batches : 0;
    const std::vector<int64_t> ids = idx.to_int64_vector();
    offsets.resize(static_cast<size_t>(batches * tuples));
    for (int64_t i = 0; i < batches; ++i)
      for (int64_t t = 0; t < tuples; ++t) {
        int64_t off = 0;
        for (int64_t d = 0; d < k; ++d) {
          const int64_t n = data.dim(static_cast<size_t>(b + d));
          const int64_t v = ids[static_cast<size_t>((i * tuples + t) * k + d)];
          FC_CHECK(v >= -n && v < n, node.describe(), ": index ", v, " is out of range for dim ", b + d, " of size ", n);
          off = off * n + (v < 0 ? v + n : v);
        }
        offsets[static_cast<size_t>(i * tuples + t)] = i * block + off * slice;
      }
  }
};

void gather_nd(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& data = *in[0];
  const GatherNdGeometry g(s.node, data, *in[1]);
  const size_t bytes = static_cast<size_t>(g.slice) * ir::dtype_size(data.dtype());
  const auto* src = static_cast<const std::byte*>(data.raw());
  auto* dst = static_cast<std::byte*>(out[0].raw());
  for (size_t t = 0; t < g.offsets.size(); ++t)
    std::memcpy(dst + t * bytes, src + static_cast<size_t>(g.offsets[t]) * ir::dtype_size(data.dtype()), bytes);
}

// ddata (zero-filled: the kernel does not claim to overwrite its output) += dy's slices.
void gather_nd_grad(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const GatherNdGeometry g(s.node, *in[0], *in[1]);
  const Tensor& dy = *in[2];
  FC_CHECK(static_cast<int64_t>(dy.numel()) == static_cast<int64_t>(g.offsets.size()) * g.slice, s.node.describe(),
           ": dy has ", dy.numel(), " elements for ", g.offsets.size() * static_cast<size_t>(g.slice), " gathered");
  float* dx = out[0].data<float>();
  const float* src = dy.data<float>();
  for (size_t t = 0; t < g.offsets.size(); ++t)
    for (int64_t e = 0; e < g.slice; ++e) dx[g.offsets[t] + e] += src[static_cast<int64_t>(t) * g.slice + e];
}

}  // namespace

FC_REGISTER_CPU_FN("GatherND", gather_nd);
FC_REGISTER_CPU_FN("fc::GatherNDGrad", gather_nd_grad);

}  // namespace fc::runtime::cpu
