#include "ir/dtype.h"

#include "ir/error.h"

namespace fc::ir {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I64: return 8;
    case DType::I32: return 4;
    case DType::I8: return 1;
    case DType::U8: return 1;
    case DType::Bool: return 1;
    case DType::Undefined: return 0;
  }
  return 0;
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
    case DType::Undefined: return "undef";
  }
  return "undef";
}

DType dtype_from_name(std::string_view name) {
  for (DType t : {DType::F32, DType::F64, DType::I64, DType::I32, DType::I8, DType::U8, DType::Bool,
                  DType::Undefined})
    if (dtype_name(t) == name) return t;
  fail("unknown element type '", name, "'");
}

}  // namespace fc::ir
