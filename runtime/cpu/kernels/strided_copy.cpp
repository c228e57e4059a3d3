// The strided box copy behind Transpose, Slice, Pad, Concat, Split, Expand and Tile (see
// movement_common.h). Work is cut into pieces of fixed size, independent of the thread count, and
// run in parallel above the elementwise loops' size threshold.
#include <algorithm>
#include <cstring>

#include "support/error.h"
#include "runtime/cpu/kernels/movement_common.h"

namespace fc::runtime::cpu {
namespace {

// A simplified box: no size-1 dims, adjacent dims merged where both layouts allow it.
struct CopyPlan {
  std::vector<int64_t> dims, src, dst;
  int64_t numel = 1;
};

CopyPlan simplify(const StridedBox& box) {
  const size_t r = box.dims.size();
  FC_ASSERT(box.src_strides.size() == r && box.dst_strides.size() == r);
  CopyPlan p;
  for (size_t i = 0; i < r; ++i) {
    const int64_t n = box.dims[i];
    p.numel *= n;
    if (n == 1) continue;
    if (!p.dims.empty() && p.src.back() == box.src_strides[i] * n && p.dst.back() == box.dst_strides[i] * n) {
      p.dims.back() *= n;
      p.src.back() = box.src_strides[i];
      p.dst.back() = box.dst_strides[i];
    } else {
      p.dims.push_back(n);
      p.src.push_back(box.src_strides[i]);
      p.dst.push_back(box.dst_strides[i]);
    }
  }
  if (p.dims.empty()) {
    p.dims = {1};
    p.src = {0};
    p.dst = {0};
  }
  return p;
}

// One row of n elements.
template <typename T>
inline void copy_run(const T* s, T* d, int64_t n, int64_t ss, int64_t ds) {
  if (ss == 1 && ds == 1) {
    std::memcpy(d, s, static_cast<size_t>(n) * sizeof(T));
  } else if (ss == 0) {
    const T v = s[0];
    for (int64_t i = 0; i < n; ++i) d[i * ds] = v;
  } else {
    for (int64_t i = 0; i < n; ++i) d[i * ds] = s[i * ss];
  }
}

// Rows of the innermost dim; consecutive rows of one work item advance with an odometer.
template <typename T>
void copy_rows(const T* src, T* dst, const CopyPlan& p) {
  const size_t r = p.dims.size();
  const int64_t inner = p.dims[r - 1];
  const int64_t rows = p.numel / inner;
  const int64_t rows_per_item = std::max<int64_t>(1, kChunkElements / inner);
  const int64_t items = (rows + rows_per_item - 1) / rows_per_item;
#pragma omp parallel for schedule(static) if (p.numel > kParallelMinElements)
  for (int64_t item = 0; item < items; ++item) {
    const int64_t row0 = item * rows_per_item, row1 = std::min(rows, row0 + rows_per_item);
    std::vector<int64_t> idx(r, 0);
    int64_t so = 0, dof = 0, rest = row0;
    for (size_t d = r - 1; d-- > 0;) {
      idx[d] = rest % p.dims[d];
      rest /= p.dims[d];
      so += idx[d] * p.src[d];
      dof += idx[d] * p.dst[d];
    }
    for (int64_t row = row0; row < row1; ++row) {
      copy_run(src + so, dst + dof, inner, p.src[r - 1], p.dst[r - 1]);
      for (size_t d = r - 1; d-- > 0;) {
        so += p.src[d];
        dof += p.dst[d];
        if (++idx[d] < p.dims[d]) break;
        so -= p.src[d] * p.dims[d];
        dof -= p.dst[d] * p.dims[d];
        idx[d] = 0;
      }
    }
  }
}

constexpr int64_t kTile = 32;

// One tile: o[i * dk + j] = s[i + j * sl] for i < mn, j < kn (the source is contiguous along i, the
// destination along j). Full tiles run with constant bounds in 8x8 blocks, which the compiler keeps
// in registers; this measured about twice as fast as plain loops over the tile.
template <typename T>
inline void copy_tile(const T* s, T* o, int64_t mn, int64_t kn, int64_t dk, int64_t sl) {
  if (mn == kTile && kn == kTile) {
    for (int64_t j0 = 0; j0 < kTile; j0 += 8)
      for (int64_t i0 = 0; i0 < kTile; i0 += 8)
        for (int64_t i = i0; i < i0 + 8; ++i)
          for (int64_t j = j0; j < j0 + 8; ++j) o[i * dk + j] = s[i + j * sl];
  } else {
    for (int64_t i = 0; i < mn; ++i)
      for (int64_t j = 0; j < kn; ++j) o[i * dk + j] = s[i + j * sl];
  }
}

// Transpose-like boxes: the destination is contiguous along the last dim L, the source along dim k.
// Each work item copies a kTile-wide column of L for one index of the other dims, tile by tile
// down dim k.
template <typename T>
void copy_tiled(const T* src, T* dst, const CopyPlan& p, size_t k) {
  const size_t r = p.dims.size(), L = r - 1;
  FC_ASSERT(p.src[k] == 1 && p.dst[L] == 1);
  const int64_t M = p.dims[k], K = p.dims[L];
  const int64_t dk = p.dst[k], sl = p.src[L];
  const int64_t tiles_k = (K + kTile - 1) / kTile;
  const int64_t outer = p.numel / (M * K);
  const int64_t items = outer * tiles_k;
#pragma omp parallel for schedule(static) if (p.numel > kParallelMinElements)
  for (int64_t item = 0; item < items; ++item) {
    int64_t rest = item / tiles_k;
    const int64_t k0 = (item % tiles_k) * kTile;
    int64_t so = 0, dof = 0;
    for (size_t d = r - 1; d-- > 0;) {
      if (d == k) continue;
      const int64_t i = rest % p.dims[d];
      rest /= p.dims[d];
      so += i * p.src[d];
      dof += i * p.dst[d];
    }
    const int64_t kn = std::min(kTile, K - k0);
    for (int64_t m0 = 0; m0 < M; m0 += kTile)
      copy_tile(src + so + m0 + k0 * sl, dst + dof + m0 * dk + k0, std::min(kTile, M - m0), kn, dk, sl);
  }
}

template <typename T>
void copy_typed(const void* src, void* dst, const CopyPlan& p) {
  const T* s = static_cast<const T*>(src);
  T* d = static_cast<T*>(dst);
  const size_t r = p.dims.size();
  if (r >= 2 && p.dst[r - 1] == 1 && p.src[r - 1] != 1 && p.src[r - 1] != 0 && p.dims[r - 1] > 1) {
    for (size_t k = 0; k + 1 < r; ++k)
      if (p.src[k] == 1) return copy_tiled(s, d, p, k);
  }
  copy_rows(s, d, p);
}

}  // namespace

void strided_copy(const void* src, void* dst, size_t elem_size, const StridedBox& box) {
  const CopyPlan p = simplify(box);
  if (p.numel == 0) return;
  switch (elem_size) {
    case 1: return copy_typed<uint8_t>(src, dst, p);
    case 2: return copy_typed<uint16_t>(src, dst, p);
    case 4: return copy_typed<uint32_t>(src, dst, p);
    case 8: return copy_typed<uint64_t>(src, dst, p);
    default: fail("strided copy: unsupported element size ", elem_size);
  }
}

}  // namespace fc::runtime::cpu
