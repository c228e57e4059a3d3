// A dense, row-major tensor with shared, 64-byte aligned storage. Used for initializers (weights)
// in the IR and for every buffer the runtime moves. Copies share storage; clone() deep-copies.
// Views (reshape) share storage with a different shape.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "ir/dtype.h"
#include "support/error.h"
#include "ir/types.h"

namespace fc::ir {

class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, std::vector<int64_t> dims);  // zero-filled

  template <typename T>
  static Tensor from_vector(std::vector<int64_t> dims, const std::vector<T>& values) {
    Tensor t(dtype_of<T>(), std::move(dims));
    FC_CHECK(values.size() == t.numel(), "tensor: ", values.size(), " values for ", t.numel(), " elements");
    if (!values.empty()) std::memcpy(t.raw(), values.data(), t.nbytes());
    return t;
  }
  template <typename T>
  static Tensor scalar(T v) { return from_vector<T>({}, {v}); }

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t dim(size_t i) const { return dims_.at(i); }
  size_t rank() const { return dims_.size(); }
  size_t numel() const;
  size_t nbytes() const { return numel() * dtype_size(dtype_); }
  bool defined() const { return dtype_ != DType::Undefined; }
  TensorType type() const { return TensorType::concrete(dtype_, dims_); }

  void* raw() { return storage_ ? storage_.get() + offset_ : nullptr; }
  const void* raw() const { return storage_ ? storage_.get() + offset_ : nullptr; }
  template <typename T> T* data() { check_type<T>(); return static_cast<T*>(raw()); }
  template <typename T> const T* data() const { check_type<T>(); return static_cast<const T*>(raw()); }

  // A tensor over memory it does not allocate (e.g. an MPI shared window); `keep_alive` (may be
  // null when the memory outlives every user) is held while any copy or view lives.
  static Tensor external(void* data, DType dtype, std::vector<int64_t> dims, std::shared_ptr<void> keep_alive);
  // Same storage, new shape with the same element count.
  Tensor reshaped(std::vector<int64_t> dims) const;
  // Elements [element_offset, element_offset + prod(dims)) of this tensor, viewed with `dims`
  // (same storage and element type).
  Tensor slice_view(size_t element_offset, std::vector<int64_t> dims) const;
  Tensor clone() const;
  // For a Bool tensor filled from bytes read from a file: ONNX and NumPy store each element as a
  // byte where any nonzero value means true, while a C++ bool holding anything but 0 or 1 is
  // undefined behaviour. Sets every element to 0 or 1; does nothing for other element types.
  void canonicalize_bools();
  // Values converted to int64 (for shape-like tensors of any integer type).
  std::vector<int64_t> to_int64_vector() const;
  bool same_storage(const Tensor& o) const { return storage_ == o.storage_ && offset_ == o.offset_; }
  // Whether both are views of one allocation (at any offsets).
  bool shares_storage(const Tensor& o) const { return storage_ && storage_ == o.storage_; }
  // Whether no other tensor (copy or view) holds this storage: writing it changes no one else's.
  bool sole_owner() const { return storage_ && storage_.use_count() == 1; }

 private:
  template <typename T> void check_type() const {
    FC_CHECK(dtype_ == dtype_of<T>(), "tensor holds ", dtype_name(dtype_), ", accessed as ", dtype_name(dtype_of<T>()));
  }
  DType dtype_ = DType::Undefined;
  std::vector<int64_t> dims_;
  std::shared_ptr<std::byte[]> storage_;
  size_t offset_ = 0;
};

}  // namespace fc::ir
