// ONNX's 4-bit integers (INT4, UINT4; opset 21). In memory one element per byte, sign-extended, so
// that every kernel indexes them like any other type; files pack two per byte (low nibble first),
// which the ONNX reader and writer undo and redo. Converting to them rounds floats to nearest-even
// and clamps to the type's range (ONNX Cast).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace fc::ir {

template <bool kSigned>
struct Int4 {
  using Value = std::conditional_t<kSigned, int8_t, uint8_t>;
  static constexpr int64_t kMin = kSigned ? -8 : 0, kMax = kSigned ? 7 : 15;
  Value value = 0;
  Int4() = default;
  explicit Int4(int64_t v) : value(static_cast<Value>(std::clamp(v, kMin, kMax))) {}
  explicit Int4(double v) : value(static_cast<Value>(std::nearbyint(std::clamp(v, double(kMin), double(kMax))))) {}
  operator int() const { return value; }
};
using Int4S = Int4<true>;
using UInt4 = Int4<false>;

template <typename T> inline constexpr bool is_int4_v = false;
template <bool S> inline constexpr bool is_int4_v<Int4<S>> = true;

}  // namespace fc::ir
