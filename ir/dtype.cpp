#include "ir/dtype.h"

#include "support/error.h"

namespace fc::ir {

size_t dtype_size(DType t) {
  size_t size = 0;
  visit_dtype(t, [&](auto* tag) { size = sizeof(*tag); });
  return size;
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::I64: return "i64";
    case DType::I32: return "i32";
    case DType::I8: return "i8";
    case DType::U8: return "u8";
    case DType::Bool: return "bool";
    case DType::I16: return "i16";
    case DType::U16: return "u16";
    case DType::U32: return "u32";
    case DType::U64: return "u64";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::F8E4M3FN: return "f8e4m3fn";
    case DType::F8E4M3FNUZ: return "f8e4m3fnuz";
    case DType::F8E5M2: return "f8e5m2";
    case DType::F8E5M2FNUZ: return "f8e5m2fnuz";
    case DType::I4: return "i4";
    case DType::U4: return "u4";
    case DType::Undefined: return "undef";
  }
  return "undef";
}

DType dtype_from_name(std::string_view name) {
  for (DType t : kAllDTypes)
    if (dtype_name(t) == name) return t;
  if (name == dtype_name(DType::Undefined)) return DType::Undefined;
  fail("unknown element type '", name, "'");
}

bool is_float_dtype(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::F16 || t == DType::BF16;
}

bool is_storage_only_dtype(DType t) {
  return t == DType::F8E4M3FN || t == DType::F8E4M3FNUZ || t == DType::F8E5M2 || t == DType::F8E5M2FNUZ ||
         t == DType::I4 || t == DType::U4;
}

bool is_integer_dtype(DType t) {
  return !is_float_dtype(t) && !is_storage_only_dtype(t) && t != DType::Bool && t != DType::Undefined;
}

}  // namespace fc::ir
