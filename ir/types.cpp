#include "ir/types.h"

#include "ir/checked_size.h"
#include "support/error.h"

namespace fc::ir {

TensorType TensorType::concrete(DType t, const std::vector<int64_t>& sizes) {
  TensorType r;
  r.dtype = t;
  for (int64_t s : sizes) r.dims.push_back(Dim::known(s));
  return r;
}

bool TensorType::is_concrete() const {
  for (const Dim& d : dims)
    if (!d.is_known()) return false;
  return true;
}

std::vector<int64_t> TensorType::sizes() const {
  std::vector<int64_t> r;
  r.reserve(dims.size());
  for (const Dim& d : dims) {
    FC_ASSERT(d.is_known());
    r.push_back(d.size);
  }
  return r;
}

int64_t TensorType::numel() const { return checked_numel(sizes(), "tensor type"); }

std::string to_string(const Dim& d) {
  if (d.is_known()) return std::to_string(d.size);
  if (!d.symbol.empty()) return d.symbol;
  return "?";
}

std::string to_string(const TensorType& t) {
  std::string s(dtype_name(t.dtype));
  s += '[';
  for (size_t i = 0; i < t.dims.size(); ++i) {
    if (i) s += ',';
    s += to_string(t.dims[i]);
  }
  s += ']';
  return s;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const std::string& what) {
  int64_t a = axis < 0 ? axis + rank : axis;
  FC_CHECK(a >= 0 && a < std::max<int64_t>(rank, 1), what, ": axis ", axis, " out of range for rank ", rank);
  return a;
}

}  // namespace fc::ir
