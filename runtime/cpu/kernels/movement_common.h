// Shared pieces of the data-movement CPU kernels (movement_views.cpp, movement_layout.cpp,
// movement_values.cpp): the one strided copy every rearranging kernel is built on, element-type
// dispatch over every IR type, and the element conversion Cast and Pad use.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "ir/tensor.h"
#include "runtime/cpu/kernels/broadcast_loop.h"

namespace fc::runtime::cpu {

// A box of elements copied between two strided layouts:
//   dst[sum_i k_i * dst_strides[i]] = src[sum_i k_i * src_strides[i]]   for every k < dims.
// Strides are in elements; source strides may be negative (reversed slices) or 0 (broadcast).
// Destinations must not overlap within one copy.
struct StridedBox {
  std::vector<int64_t> dims, src_strides, dst_strides;
};

// Copies `box` for elements of `elem_size` bytes (1, 2, 4 or 8). The box is first simplified
// (size-1 dims dropped, dims that are contiguous in both layouts merged), then copied as rows of
// its innermost dim (memcpy where both sides are contiguous), or, when the destination's
// contiguous dim is strided in the source and some other dim is contiguous there (a transpose),
// in 32x32 tiles so that both sides stay in cache.
void strided_copy(const void* src, void* dst, size_t elem_size, const StridedBox& box);

// Converts one element as numpy's astype does: float to integer truncates toward zero, anything to
// bool is x != 0, integers wrap. Where C++ leaves a conversion undefined (NaN or out-of-range float
// to integer) this gives what numpy gives on x86: the most negative value for 32/64-bit signed
// types, and for narrower types that value's low bits (through int64).
// f16/bf16 convert through double: widening is exact, and narrowing rounds once to nearest-even.
template <typename To, typename From>
To convert_element(From v) {
  if constexpr (ir::is_narrow_float_v<From>) {
    return convert_element<To>(static_cast<double>(static_cast<float>(v)));
  } else if constexpr (ir::is_int4_v<From>) {
    return convert_element<To>(static_cast<int>(v));
  } else if constexpr (ir::is_narrow_float_v<To>) {
    return To(static_cast<double>(v));
  } else if constexpr (ir::is_int4_v<To>) {  // floats round to nearest-even, everything clamps
    if constexpr (std::is_floating_point_v<From>) return To(static_cast<double>(v));
    else if constexpr (std::is_unsigned_v<From>) return To(static_cast<int64_t>(std::min<uint64_t>(v, 15)));
    else return To(static_cast<int64_t>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if constexpr (std::is_signed_v<To> && sizeof(To) >= 4) {
      constexpr From lo = static_cast<From>(std::numeric_limits<To>::min());  // -2^(bits-1), exact
      if (!(v >= lo && v < -lo)) return std::numeric_limits<To>::min();
      return static_cast<To>(v);
    } else {
      return static_cast<To>(convert_element<int64_t>(v));
    }
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace fc::runtime::cpu
