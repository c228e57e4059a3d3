#include "ir/checked_size.h"

#include "support/error.h"

namespace fc::ir {

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

int64_t checked_mul(int64_t a, int64_t b, std::string_view what) {
  FC_ASSERT(a >= 0 && b >= 0);
  int64_t r = 0;
  FC_CHECK(!__builtin_mul_overflow(a, b, &r), what, ": ", a, " x ", b, " overflows 64 bits");
  return r;
}

int64_t checked_add(int64_t a, int64_t b, std::string_view what) {
  int64_t r = 0;
  FC_CHECK(!__builtin_add_overflow(a, b, &r), what, ": ", a, " + ", b, " overflows 64 bits");
  return r;
}

int64_t checked_numel(const std::vector<int64_t>& dims, std::string_view what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    FC_CHECK(d >= 0, what, ": negative dimension ", d, " in ", dims_text(dims));
    FC_CHECK(!__builtin_mul_overflow(n, d, &n), what, ": dims ", dims_text(dims), " overflow a 64-bit element count");
  }
  return n;
}

int64_t checked_nbytes(DType dtype, const std::vector<int64_t>& dims, std::string_view what) {
  int64_t n = checked_numel(dims, what), r = 0;
  FC_CHECK(!__builtin_mul_overflow(n, static_cast<int64_t>(dtype_size(dtype)), &r), what, ": dims ", dims_text(dims),
           " overflow a 64-bit byte count");
  return r;
}

}  // namespace fc::ir
