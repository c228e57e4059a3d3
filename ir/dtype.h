// Element types a value can have. Mirrors the subset of ONNX TensorProto.DataType we execute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fc::ir {

enum class DType : uint8_t { Undefined, F32, F64, I64, I32, I8, U8, Bool };

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);         // "f32", "i64", ... (the text-IR spelling)
DType dtype_from_name(std::string_view name);  // inverse of dtype_name; throws fc::Error

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int8_t>() { return DType::I8; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }

}  // namespace fc::ir
