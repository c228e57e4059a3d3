// Element types a value can have. Mirrors the subset of ONNX TensorProto.DataType we execute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ir/float_formats.h"
#include "ir/int4.h"

namespace fc::ir {

// New types go at the end: the enum's values are not stored anywhere, but tables index by them.
enum class DType : uint8_t {
  Undefined, F32, F64, I64, I32, I8, U8, Bool, I16, U16, U32, U64, F16, BF16,
  F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ, I4, U4,  // converted by Cast, moved, never computed with
};

// Every defined element type, in enum order.
inline constexpr DType kAllDTypes[] = {DType::F32, DType::F64, DType::I64, DType::I32, DType::I8,
                                       DType::U8,  DType::Bool, DType::I16, DType::U16, DType::U32,
                                       DType::U64, DType::F16, DType::BF16, DType::F8E4M3FN,
                                       DType::F8E4M3FNUZ, DType::F8E5M2, DType::F8E5M2FNUZ, DType::I4,
                                       DType::U4};

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);         // "f32", "i64", ... (the text-IR spelling)
DType dtype_from_name(std::string_view name);  // inverse of dtype_name; throws fc::Error
bool is_float_dtype(DType t);                  // f32, f64, f16, bf16
bool is_integer_dtype(DType t);                // signed or unsigned integers of 8-64 bits (not bool)
// float8 and int4: Cast converts them, movement ops move them, no op computes with them.
bool is_storage_only_dtype(DType t);

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int8_t>() { return DType::I8; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }
template <> constexpr DType dtype_of<int16_t>() { return DType::I16; }
template <> constexpr DType dtype_of<uint16_t>() { return DType::U16; }
template <> constexpr DType dtype_of<uint32_t>() { return DType::U32; }
template <> constexpr DType dtype_of<uint64_t>() { return DType::U64; }
template <> constexpr DType dtype_of<Half>() { return DType::F16; }
template <> constexpr DType dtype_of<BFloat16>() { return DType::BF16; }
template <> constexpr DType dtype_of<Float8E4M3FN>() { return DType::F8E4M3FN; }
template <> constexpr DType dtype_of<Float8E4M3FNUZ>() { return DType::F8E4M3FNUZ; }
template <> constexpr DType dtype_of<Float8E5M2>() { return DType::F8E5M2; }
template <> constexpr DType dtype_of<Float8E5M2FNUZ>() { return DType::F8E5M2FNUZ; }
template <> constexpr DType dtype_of<Int4S>() { return DType::I4; }
template <> constexpr DType dtype_of<UInt4>() { return DType::U4; }

// Calls fn(static_cast<T*>(nullptr)) with the C++ element type T of `t`; returns false (calling
// nothing) for Undefined.
template <typename Fn>
bool visit_dtype(DType t, Fn&& fn) {
  switch (t) {
    case DType::F32: fn(static_cast<float*>(nullptr)); return true;
    case DType::F64: fn(static_cast<double*>(nullptr)); return true;
    case DType::I64: fn(static_cast<int64_t*>(nullptr)); return true;
    case DType::I32: fn(static_cast<int32_t*>(nullptr)); return true;
    case DType::I8: fn(static_cast<int8_t*>(nullptr)); return true;
    case DType::U8: fn(static_cast<uint8_t*>(nullptr)); return true;
    case DType::Bool: fn(static_cast<bool*>(nullptr)); return true;
    case DType::I16: fn(static_cast<int16_t*>(nullptr)); return true;
    case DType::U16: fn(static_cast<uint16_t*>(nullptr)); return true;
    case DType::U32: fn(static_cast<uint32_t*>(nullptr)); return true;
    case DType::U64: fn(static_cast<uint64_t*>(nullptr)); return true;
    case DType::F16: fn(static_cast<Half*>(nullptr)); return true;
    case DType::BF16: fn(static_cast<BFloat16*>(nullptr)); return true;
    case DType::F8E4M3FN: fn(static_cast<Float8E4M3FN*>(nullptr)); return true;
    case DType::F8E4M3FNUZ: fn(static_cast<Float8E4M3FNUZ*>(nullptr)); return true;
    case DType::F8E5M2: fn(static_cast<Float8E5M2*>(nullptr)); return true;
    case DType::F8E5M2FNUZ: fn(static_cast<Float8E5M2FNUZ*>(nullptr)); return true;
    case DType::I4: fn(static_cast<Int4S*>(nullptr)); return true;
    case DType::U4: fn(static_cast<UInt4*>(nullptr)); return true;
    case DType::Undefined: return false;
  }
  return false;
}

}  // namespace fc::ir
