#include "ir/shape_util.h"

#include <algorithm>

#include "ir/checked_size.h"
#include "support/error.h"

namespace fc::ir {

std::vector<Dim> broadcast_dims(const std::vector<Dim>& a, const std::vector<Dim>& b, const std::string& what) {
  size_t r = std::max(a.size(), b.size());
  std::vector<Dim> out(r);
  for (size_t i = 0; i < r; ++i) {
    const Dim one = Dim::known(1);
    const Dim& x = i < r - a.size() ? one : a[i - (r - a.size())];
    const Dim& y = i < r - b.size() ? one : b[i - (r - b.size())];
    if (x == y) out[i] = x;
    else if (x.is_known() && x.size == 1) out[i] = y;
    else if (y.is_known() && y.size == 1) out[i] = x;
    else if (!x.is_known() && y.is_known()) out[i] = y;  // unknown broadcasts against a size
    else if (!y.is_known() && x.is_known()) out[i] = x;
    else if (!x.is_known() && !y.is_known()) out[i] = Dim::unknown();
    else fail(what, ": shapes cannot broadcast (", to_string(x), " vs ", to_string(y), " at dim ", i, ")");
  }
  return out;
}

std::vector<int64_t> broadcast_sizes(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    FC_CHECK(x == y || x == 1 || y == 1, "shapes cannot broadcast (", x, " vs ", y, ")");
    out[i] = x == 1 ? y : x;
  }
  return out;
}

std::vector<int64_t> strides_of(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

int64_t product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < std::min(end, dims.size()); ++i)
    FC_CHECK(!__builtin_mul_overflow(p, dims[i], &p), "dims ", dims_text(dims), " overflow a 64-bit element count");
  return p;
}

}  // namespace fc::ir
