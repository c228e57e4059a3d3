// CPU kernel of ScatterND (ir/ops/scatter_nd.cpp): y = data, then for each index tuple in order
// (duplicates apply in that order, the last write winning without a reduction) its slice of
// updates is written or combined into y. Indices are checked (and negative ones wrapped) before
// anything is written.
#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"
#include "support/error.h"

namespace fc::runtime::cpu {
namespace {

enum class Reduction { None, Add, Mul, Max, Min };

Reduction reduction_of(const ir::Node& n) {
  const std::string& r = n.attr_string("reduction");
  if (r == "add") return Reduction::Add;
  if (r == "mul") return Reduction::Mul;
  if (r == "max") return Reduction::Max;
  if (r == "min") return Reduction::Min;
  return Reduction::None;
}

template <typename T>
T combine(Reduction r, T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return b;  // bool data takes no reduction (checked by the op's shape function)
  } else {
    switch (r) {
      case Reduction::Add: return static_cast<T>(a + b);
      case Reduction::Mul: return static_cast<T>(a * b);
      case Reduction::Max: return a < b ? b : a;
      case Reduction::Min: return b < a ? b : a;
      case Reduction::None: break;
    }
    return b;
  }
}

void scatter_nd(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor &data = *in[0], &idx = *in[1], &upd = *in[2];
  Tensor& y = out[0];
  const int64_t k = idx.dim(idx.rank() - 1);
  const int64_t slice = ir::product(data.dims(), k);
  const int64_t tuples = k > 0 ? static_cast<int64_t>(idx.numel()) / k : 0;
  FC_CHECK(static_cast<int64_t>(upd.numel()) == tuples * slice, s.node.describe(), ": updates have ", upd.numel(),
           " elements, ", tuples * slice, " expected");
  std::vector<int64_t> offsets(static_cast<size_t>(tuples));
  const std::vector<int64_t> ids = idx.to_int64_vector();
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = 0;
    for (int64_t d = 0; d < k; ++d) {
      const int64_t n = data.dim(static_cast<size_t>(d));
      int64_t i = ids[static_cast<size_t>(t * k + d)];
      FC_CHECK(i >= -n && i < n, s.node.describe(), ": index ", i, " is out of range for dim ", d, " of size ", n);
      off = off * n + (i < 0 ? i + n : i);
    }
    offsets[static_cast<size_t>(t)] = off * slice;
  }
  std::memcpy(y.raw(), data.raw(), data.nbytes());
  const Reduction red = reduction_of(s.node);
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T* dst = y.data<T>();
    const T* src = upd.data<T>();
    for (int64_t t = 0; t < tuples; ++t)
      for (int64_t e = 0; e < slice; ++e) {
        T& d = dst[offsets[static_cast<size_t>(t)] + e];
        const T u = src[t * slice + e];
        d = red == Reduction::None ? u : combine(red, d, u);
      }
  };
  if (data.dtype() == ir::DType::Bool) run(static_cast<bool*>(nullptr));
  else dispatch_numeric(data.dtype(), s.node, run);
}

}  // namespace

FC_REGISTER_CPU_FN("ScatterND", scatter_nd);

}  // namespace fc::runtime::cpu
