// CPU kernels for Gather, fc.GatherGrad, Cast, ConstantOfShape, Shape, Size and Range. ConstantOfShape and Range
// size their outputs from input values at every run (the executor rebuilds kernels only when input
// shapes change, and these outputs' shapes depend on values).
#include <algorithm>
#include <cstring>

#include "support/error.h"
#include "ir/ops/movement.h"
#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/movement_common.h"

namespace fc::runtime::cpu {
namespace {

using Ins = std::vector<const Tensor*>;
using Outs = std::vector<Tensor>;

// A Gather's view of data as [outer, n, inner] around its axis, and its m indices, checked and with
// negative ones wrapped (before anything is copied).
struct GatherGeometry {
  int64_t n = 0, outer = 0, inner = 0, m = 0;
  std::vector<int64_t> rows;
  GatherGeometry(const ir::Node& node, const Tensor& data, const Tensor& idx) {
    const int64_t axis = ir::normalize_axis(node.attr_int("axis"), static_cast<int64_t>(data.rank()), node.describe());
    n = data.dim(axis);
    outer = ir::product(data.dims(), 0, axis);
    inner = ir::product(data.dims(), axis + 1);
    rows = idx.to_int64_vector();
    for (int64_t& i : rows) {
      FC_CHECK(i >= -n && i < n, node.describe(), ": index ", i, " is out of range for axis ", axis, " of size ", n);
      if (i < 0) i += n;
    }
    m = static_cast<int64_t>(rows.size());
  }
};

// data: [outer, n, inner] around axis, indices: any shape (m elements) -> y: [outer, m, inner].
void gather(const KernelSpec& s, const Ins& in, Outs& out) {
  const Tensor& data = *in[0];
  const GatherGeometry g(s.node, data, *in[1]);
  const size_t row_bytes = static_cast<size_t>(g.inner) * ir::dtype_size(data.dtype());
  if (row_bytes == 0) return;
  const std::byte* src = static_cast<const std::byte*>(data.raw());
  std::byte* dst = static_cast<std::byte*>(out[0].raw());
#pragma omp parallel for schedule(static) if (g.outer * g.m * g.inner > kParallelMinElements)
  for (int64_t k = 0; k < g.outer * g.m; ++k) {
    const int64_t o = k / g.m, j = k % g.m;
    std::memcpy(dst + k * row_bytes, src + (o * g.n + g.rows[j]) * row_bytes, row_bytes);
  }
}

// ddata: [outer, n, inner] (zero-filled) += dy: [outer, m, inner] at the gathered rows. Rows of one
// outer plane are added in index order, so repeated indices sum in a fixed order (deterministic);
// planes are independent and split across threads.
void gather_grad(const KernelSpec& s, const Ins& in, Outs& out) {
  const Tensor& dy = *in[2];
  const GatherGeometry g(s.node, *in[0], *in[1]);
  FC_CHECK(static_cast<int64_t>(dy.numel()) == g.outer * g.m * g.inner, s.node.describe(), ": dy has ", dy.numel(),
           " elements for ", g.outer * g.m * g.inner, " gathered");
  const float* from = dy.data<float>();
  float* to = out[0].data<float>();
#pragma omp parallel for schedule(static) if (g.outer > 1 && g.outer * g.m * g.inner > kParallelMinElements)
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t j = 0; j < g.m; ++j) {
      const float* src = from + (o * g.m + j) * g.inner;
      float* dst = to + (o * g.n + g.rows[static_cast<size_t>(j)]) * g.inner;
      for (int64_t k = 0; k < g.inner; ++k) dst[k] += src[k];
    }
}

// y = x converted element by element (convert_element: numpy astype rules).
void cast(const KernelSpec& s, const Ins& in, Outs& out) {
  const Tensor& x = *in[0];
  Tensor& y = out[0];
  if (x.dtype() == y.dtype()) {
    if (x.nbytes()) std::memcpy(y.raw(), x.raw(), x.nbytes());
    return;
  }
  dispatch_any_dtype(x.dtype(), s.node, [&](auto* from_tag) {
    using From = std::remove_pointer_t<decltype(from_tag)>;
    dispatch_any_dtype(y.dtype(), s.node, [&](auto* to_tag) {
      using To = std::remove_pointer_t<decltype(to_tag)>;
      if constexpr (ir::is_narrow_float_v<To> && sizeof(To) == 1) {  // float8: ONNX's saturate attribute
        if (s.node.has_attr("saturate") && s.node.attr_int("saturate") == 0) {
          unary_map<From, To>(x, y, [](From v) { return To(convert_element<double>(v), false); });
          return;
        }
      }
      unary_map<From, To>(x, y, [](From v) { return convert_element<To>(v); });
    });
  });
}

// y: i64[end - start] = x's dims [start, end).
void shape(const KernelSpec& s, const Ins& in, Outs& out) {
  const auto [start, end] = ir::shape_op_bounds(s.node, static_cast<int64_t>(in[0]->rank()));
  for (int64_t i = start; i < end; ++i) out[0].data<int64_t>()[i - start] = in[0]->dim(i);
}

// y: i64[] = x's element count.
void size(const KernelSpec&, const Ins& in, Outs& out) {
  out[0].data<int64_t>()[0] = static_cast<int64_t>(in[0]->numel());
}

// y: [shape values...] filled with the attribute value (default f32 0).
class ConstantOfShapeKernel : public Kernel {
 public:
  explicit ConstantOfShapeKernel(const KernelSpec& spec) : node_(spec.node) {
    value_ = node_.has_attr("value") ? node_.attr_tensor("value") : Tensor::scalar<float>(0.0f);
  }
  bool allocates_outputs() const override { return true; }
  void run(const Ins& in, Outs& out) override {
    std::vector<int64_t> dims = in[0]->to_int64_vector();
    for (int64_t d : dims) FC_CHECK(d >= 0, node_.describe(), ": negative dimension ", d);
    out[0] = Tensor(value_.dtype(), dims);
    dispatch_any_dtype(value_.dtype(), node_, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      std::fill_n(out[0].data<T>(), out[0].numel(), value_.data<T>()[0]);
    });
  }

 private:
  const ir::Node& node_;
  Tensor value_;
};

// y[i] = start + i * delta for i < range_length (integers exactly, floats in double).
class RangeKernel : public Kernel {
 public:
  explicit RangeKernel(const KernelSpec& spec) : node_(spec.node) {}
  bool allocates_outputs() const override { return true; }
  void run(const Ins& in, Outs& out) override {
    const int64_t n = ir::range_length(node_, *in[0], *in[1], *in[2]);
    out[0] = Tensor(in[0]->dtype(), {n});
    dispatch_dtype<float, double, int64_t, int32_t>(in[0]->dtype(), node_, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
      const Acc start = static_cast<Acc>(in[0]->data<T>()[0]), delta = static_cast<Acc>(in[2]->data<T>()[0]);
      T* y = out[0].data<T>();
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(start + static_cast<Acc>(i) * delta);
    });
  }

 private:
  const ir::Node& node_;
};

}  // namespace

FC_REGISTER_CPU_FN("Gather", gather);
FC_REGISTER_CPU_FN("fc::GatherGrad", gather_grad);
FC_REGISTER_CPU_FN("Cast", cast);
FC_REGISTER_CPU_FN("Shape", shape);
FC_REGISTER_CPU_FN("Size", size);
FC_REGISTER_CPU_KERNEL("ConstantOfShape", [](const KernelSpec& s) { return std::make_unique<ConstantOfShapeKernel>(s); });
FC_REGISTER_CPU_KERNEL("Range", [](const KernelSpec& s) { return std::make_unique<RangeKernel>(s); });

}  // namespace fc::runtime::cpu
