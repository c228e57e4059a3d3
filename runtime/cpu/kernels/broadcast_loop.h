// Shared loops for elementwise CPU kernels: contiguous chunked maps (unary ops) and one generic
// numpy-broadcasting loop over K inputs (binary ops, Where, variadic Max/Min/Sum/Mean).
//
// Broadcasting is planned once per call: the output shape is collapsed so that adjacent dimensions
// that every input walks in the same way (all contiguous, or all broadcast) merge into one. What is
// left is iterated as rows of the innermost collapsed dimension, and each row gets the innermost
// stride of every input (1 = contiguous, 0 = broadcast). Element functions specialise on those
// strides, so the common cases become plain vectorisable loops:
//   same shape                  [N,C,H,W] + [N,C,H,W]  -> one row, strides (1, 1)
//   one side scalar             [N,C,H,W] + []         -> one row, strides (1, 0)
//   per-channel bias            [N,C,H,W] + [C,1,1]    -> rows of H*W, strides (1, 0)
//   per-feature bias            [N,F] + [F]            -> rows of F, strides (1, 1)
// Work is split into fixed-size pieces (independent of the thread count, so results are too) and
// run with OpenMP only above a size threshold, where the threads pay for themselves.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "support/error.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace fc::runtime::cpu {

// Calls fn(static_cast<T*>(nullptr)) for the T among Ts whose dtype is `t`; throws fc::Error
// naming the node when none is. Kernels use it to pick a template instantiation at run time.
template <typename... Ts, typename Fn>
void dispatch_dtype(ir::DType t, const ir::Node& node, Fn&& fn) {
  bool done = false;
  auto try_one = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    if (!done && t == ir::dtype_of<T>()) {
      fn(tag);
      done = true;
    }
  };
  (try_one(static_cast<Ts*>(nullptr)), ...);
  FC_CHECK(done, node.describe(), ": no CPU kernel for element type ", ir::dtype_name(t));
}

// dispatch_dtype over every numeric element type (not bool).
template <typename Fn>
void dispatch_numeric(ir::DType t, const ir::Node& node, Fn&& fn) {
  dispatch_dtype<float, double, ir::Half, ir::BFloat16, int64_t, int32_t, int16_t, int8_t, uint64_t, uint32_t,
                 uint16_t, uint8_t>(t, node, std::forward<Fn>(fn));
}

// dispatch_dtype over every numeric element type and bool.
template <typename Fn>
void dispatch_numeric_or_bool(ir::DType t, const ir::Node& node, Fn&& fn) {
  if (t == ir::DType::Bool) fn(static_cast<bool*>(nullptr));
  else dispatch_numeric(t, node, std::forward<Fn>(fn));
}

// dispatch_dtype over every IR element type.
template <typename Fn>
void dispatch_any_dtype(ir::DType t, const ir::Node& node, Fn&& fn) {
  FC_CHECK(ir::visit_dtype(t, std::forward<Fn>(fn)), node.describe(), ": undefined element type");
}

// Elements below which a loop stays on one thread.
inline constexpr int64_t kParallelMinElements = int64_t{1} << 15;
// Elements per unit of parallel work.
inline constexpr int64_t kChunkElements = int64_t{1} << 14;

// Calls fn(begin, end) over [0, n) in pieces of kChunkElements, in parallel for large n.
template <typename Fn>
void parallel_chunks(int64_t n, Fn&& fn) {
  if (n <= 0) return;
  const int64_t pieces = (n + kChunkElements - 1) / kChunkElements;
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
  for (int64_t p = 0; p < pieces; ++p) fn(p * kChunkElements, std::min(n, (p + 1) * kChunkElements));
}

// y[i] = f(x[i]) for contiguous tensors of equal size.
template <typename In, typename Out, typename F>
void unary_map(const ir::Tensor& x, ir::Tensor& y, const F& f) {
  const In* xp = x.data<In>();
  Out* yp = y.data<Out>();
  parallel_chunks(static_cast<int64_t>(y.numel()), [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) yp[i] = f(xp[i]);
  });
}

// y[i] = f(a[i], b[i]) for contiguous tensors of equal size (backward ops: dx = f(dy, saved)).
template <typename A, typename B, typename Out, typename F>
void zip_map(const ir::Tensor& a, const ir::Tensor& b, ir::Tensor& y, const F& f) {
  const A* ap = a.data<A>();
  const B* bp = b.data<B>();
  Out* yp = y.data<Out>();
  parallel_chunks(static_cast<int64_t>(y.numel()), [&](int64_t s, int64_t e) {
#pragma omp simd
    for (int64_t i = s; i < e; ++i) yp[i] = f(ap[i], bp[i]);
  });
}

// A broadcast iteration space: collapsed output dims and, per input, its element stride along each
// (0 where the input is broadcast). dims has at least one entry.
template <size_t K>
struct BroadcastPlan {
  std::vector<int64_t> dims;
  std::array<std::vector<int64_t>, K> strides;
  int64_t numel = 1;
};

template <size_t K>
BroadcastPlan<K> plan_broadcast(const std::vector<int64_t>& out, const std::array<const std::vector<int64_t>*, K>& ins) {
  const size_t r = out.size();
  // Full-rank strides of every input against the output (inputs are right-aligned).
  std::array<std::vector<int64_t>, K> full;
  for (size_t k = 0; k < K; ++k) {
    const std::vector<int64_t>& d = *ins[k];
    FC_CHECK(d.size() <= r, "broadcast: input of rank ", d.size(), " exceeds output rank ", r);
    full[k].assign(r, 0);
    int64_t s = 1;
    for (size_t j = d.size(); j-- > 0;) {
      const size_t oj = j + (r - d.size());
      FC_CHECK(d[j] == out[oj] || d[j] == 1, "broadcast: input dim ", d[j], " does not match output dim ", out[oj]);
      full[k][oj] = (d[j] == 1) ? 0 : s;
      s *= d[j];
    }
  }
  BroadcastPlan<K> p;
  for (size_t j = 0; j < r; ++j) {
    p.numel *= out[j];
    if (out[j] == 1) continue;  // size-1 output dims carry no iteration
    bool merge = !p.dims.empty();
    for (size_t k = 0; k < K && merge; ++k) merge = p.strides[k].back() == full[k][j] * out[j];
    if (merge) {
      p.dims.back() *= out[j];
      for (size_t k = 0; k < K; ++k) p.strides[k].back() = full[k][j];
    } else {
      p.dims.push_back(out[j]);
      for (size_t k = 0; k < K; ++k) p.strides[k].push_back(full[k][j]);
    }
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    for (size_t k = 0; k < K; ++k) p.strides[k].push_back(0);
  }
  return p;
}

// Calls row(out_offset, in_offsets, inner_strides, n) for every row piece of the plan: n output
// elements starting at out_offset, input k starting at in_offsets[k] with stride inner_strides[k].
template <size_t K, typename Row>
void for_each_row(const BroadcastPlan<K>& p, Row&& row) {
  if (p.numel == 0) return;
  const size_t r = p.dims.size();
  const int64_t inner = p.dims[r - 1];
  const int64_t rows = p.numel / inner;
  const int64_t pieces = (inner + kChunkElements - 1) / kChunkElements;
  std::array<int64_t, K> inner_stride;
  for (size_t k = 0; k < K; ++k) inner_stride[k] = p.strides[k][r - 1];
#pragma omp parallel for schedule(static) if (p.numel > kParallelMinElements)
  for (int64_t item = 0; item < rows * pieces; ++item) {
    const int64_t rw = item / pieces, begin = (item % pieces) * kChunkElements;
    std::array<int64_t, K> off{};
    int64_t rest = rw;
    for (size_t d = r - 1; d-- > 0;) {
      const int64_t i = rest % p.dims[d];
      rest /= p.dims[d];
      for (size_t k = 0; k < K; ++k) off[k] += i * p.strides[k][d];
    }
    for (size_t k = 0; k < K; ++k) off[k] += begin * inner_stride[k];
    row(rw * inner + begin, off, inner_stride, std::min(kChunkElements, inner - begin));
  }
}

// y = f(a, b) with numpy broadcasting; y has the broadcast shape. y may alias a or b when that
// input already has y's shape (element i is read before it is written).
template <typename A, typename B, typename Out, typename F>
void broadcast_binary(const ir::Tensor& a, const ir::Tensor& b, ir::Tensor& y, const F& f) {
  const auto plan = plan_broadcast<2>(y.dims(), {&a.dims(), &b.dims()});
  const A* ap = a.data<A>();
  const B* bp = b.data<B>();
  Out* yp = y.data<Out>();
  for_each_row(plan, [&](int64_t yo, const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& st, int64_t n) {
    const A* x = ap + off[0];
    const B* z = bp + off[1];
    Out* o = yp + yo;
    if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], z[i]);
    } else if (st[0] == 1 && st[1] == 0) {
      const B s = z[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], s);
    } else if (st[0] == 0 && st[1] == 1) {
      const A s = x[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(s, z[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i * st[0]], z[i * st[1]]);
    }
  });
}

// y = f(a, b, c) with numpy broadcasting over three inputs (Where).
template <typename A, typename B, typename C, typename Out, typename F>
void broadcast_ternary(const ir::Tensor& a, const ir::Tensor& b, const ir::Tensor& c, ir::Tensor& y, const F& f) {
  const auto plan = plan_broadcast<3>(y.dims(), {&a.dims(), &b.dims(), &c.dims()});
  const A* ap = a.data<A>();
  const B* bp = b.data<B>();
  const C* cp = c.data<C>();
  Out* yp = y.data<Out>();
  for_each_row(plan, [&](int64_t yo, const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st, int64_t n) {
    const A* x = ap + off[0];
    const B* u = bp + off[1];
    const C* v = cp + off[2];
    Out* o = yp + yo;
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], u[i], v[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i * st[0]], u[i * st[1]], v[i * st[2]]);
    }
  });
}

// y = broadcast of x to y's shape.
template <typename T>
void broadcast_copy(const ir::Tensor& x, ir::Tensor& y) {
  const auto plan = plan_broadcast<1>(y.dims(), {&x.dims()});
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
  for_each_row(plan, [&](int64_t yo, const std::array<int64_t, 1>& off, const std::array<int64_t, 1>& st, int64_t n) {
    for (int64_t i = 0; i < n; ++i) yp[yo + i] = xp[off[0] + i * st[0]];
  });
}

// p as a contiguous tensor of `dims`: p's own data when it already has that many elements, else a
// broadcast copy into `storage`. Null p gives null (an omitted optional input).
inline const float* expanded_to(const ir::Tensor* p, const std::vector<int64_t>& dims, ir::Tensor& storage) {
  if (!p) return nullptr;
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  if (static_cast<int64_t>(p->numel()) == n) return p->data<float>();
  storage = ir::Tensor(ir::DType::F32, dims);
  broadcast_copy<float>(*p, storage);
  return storage.data<float>();
}

}  // namespace fc::runtime::cpu
