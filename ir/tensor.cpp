#include "ir/tensor.h"

#include <cstdlib>
#include <new>

#include "ir/checked_size.h"

namespace fc::ir {

namespace {
std::shared_ptr<std::byte[]> allocate_aligned(size_t bytes) {
  size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return std::shared_ptr<std::byte[]>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
}
}  // namespace

Tensor::Tensor(DType dtype, std::vector<int64_t> dims) : dtype_(dtype), dims_(std::move(dims)) {
  checked_nbytes(dtype_, dims_, "tensor");  // every later numel() / nbytes() then fits
  storage_ = allocate_aligned(nbytes());
}

size_t Tensor::numel() const {
  size_t n = 1;
  for (int64_t d : dims_) n *= static_cast<size_t>(d);
  return n;
}

Tensor Tensor::reshaped(std::vector<int64_t> dims) const {
  Tensor t = *this;
  t.dims_ = std::move(dims);
  FC_CHECK(t.numel() == numel(), "reshape: cannot view ", numel(), " elements as ", t.numel());
  return t;
}

Tensor Tensor::external(void* data, DType dtype, std::vector<int64_t> dims, std::shared_ptr<void> keep_alive) {
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  checked_nbytes(dtype, t.dims_, "tensor");
  FC_CHECK(data || t.numel() == 0, "tensor: external storage is null");
  // The aliasing constructor: owns what keep_alive owns, points at data.
  t.storage_ = std::shared_ptr<std::byte[]>(std::move(keep_alive), static_cast<std::byte*>(data));
  return t;
}

Tensor Tensor::slice_view(size_t element_offset, std::vector<int64_t> dims) const {
  Tensor t = *this;
  t.dims_ = std::move(dims);
  FC_CHECK(element_offset + t.numel() <= numel(), "slice of ", t.numel(), " elements at ", element_offset,
           " exceeds a tensor of ", numel());
  t.offset_ = offset_ + element_offset * dtype_size(dtype_);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, dims_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

void Tensor::canonicalize_bools() {
  if (dtype_ != DType::Bool) return;
  auto* bytes = static_cast<uint8_t*>(raw());
  for (size_t i = 0; i < nbytes(); ++i) bytes[i] = bytes[i] != 0;
}

std::vector<int64_t> Tensor::to_int64_vector() const {
  std::vector<int64_t> r(numel());
  const bool defined = visit_dtype(dtype_, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* p = static_cast<const T*>(raw());
    for (size_t i = 0; i < r.size(); ++i) {
      if constexpr (std::is_floating_point_v<T> || is_narrow_float_v<T>)
        r[i] = static_cast<int64_t>(static_cast<double>(p[i]));
      else
        r[i] = static_cast<int64_t>(p[i]);
    }
  });
  FC_CHECK(defined, "tensor: undefined element type");
  return r;
}

}  // namespace fc::ir
