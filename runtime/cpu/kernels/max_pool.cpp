// CPU kernels for max pooling, all through the window search of pool_windows.h (PyTorch's rule: the
// first of equal maxima in window order; a NaN counts as the maximum, so a NaN in a window comes out):
//   MaxPool(x: [N, C, D..]) -> y: [N, C, O..]
//   GlobalMaxPool(x) -> y: [N, C, 1..]: one window over the spatial axes
//   fc.MaxPoolTraining(x) -> y, argmax: i32 [N, C, O..] (ir/ops/pool.cpp): MaxPool that also
//     records, for fc.MaxPoolGrad, the offset in x's (n, c) plane of each window's first maximum.
//     Recording costs the forward the search the backward no longer repeats (MaxPoolGrad searching x
//     again was ~10% of a SqueezeNet step and ~20% of a GoogLeNet one).
//   MaxPool(x) -> y, indices: i64 (ONNX's optional output): the same offset, made one into the whole
//     flattened x (plane * plane size + offset; storage_order=1: the offset counted column-major).
// y is x at the chosen offset. (oneDNN's max pooling skipped NaNs, and on the plain layout ran
// "simple_nchw"; on its blocked layout it cost two reorders and measured no faster than this.)
#include <limits>
#include <type_traits>
#include <vector>

#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/pool_windows.h"

namespace fc::runtime::cpu {
namespace {

class MaxPoolKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  MaxPoolKernel(const KernelSpec& s, const PoolGeometry& g)
      : search_(g, s.node),
        record_(s.outputs.size() > 1 && s.outputs[1].dtype == ir::DType::I32),
        indices_(s.outputs.size() > 1 && s.outputs[1].dtype == ir::DType::I64),
        column_major_(s.node.has_attr("storage_order") && s.node.attr_int("storage_order") == 1) {}

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    if (in[0]->dtype() == ir::DType::F32) return pool(in[0]->data<float>(), in[0]->data<float>(), out);
    // Another type whose values are all exactly floats (ir/ops/pool.cpp): the search runs on x
    // widened to float, and y copies the chosen elements of x itself.
    const size_t n = in[0]->numel();
    widened_.resize(n);
    ir::visit_dtype(in[0]->dtype(), [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      const T* x = in[0]->data<T>();
      for (size_t i = 0; i < n; ++i) widened_[i] = static_cast<float>(x[i]);
      pool(x, widened_.data(), out);
    });
  }

 private:
  // x: the values, keys: the same as floats (x itself for f32).
  template <typename T>
  void pool(const T* x, const float* keys, std::vector<Tensor>& out) {
    T* y = out[0].data<T>();
    int32_t* argmax = record_ ? out[1].data<int32_t>() : nullptr;
    int64_t* indices = indices_ ? out[1].data<int64_t>() : nullptr;
    const PoolGeometry& g = search_.geometry();
    const int64_t in_plane = g.in_plane(), out_plane = g.out_plane(), block = search_.block();
#pragma omp parallel for if (g.planes * out_plane * g.taps() > 65536)
    for (int64_t p0 = 0; p0 < g.planes; p0 += block)
      search_.search(keys, p0, [&](int64_t p, int64_t o, int64_t i) {
        y[p * out_plane + o] = i >= 0 ? x[p * in_plane + i] : lowest<T>();  // -1: outside x
        if (argmax) argmax[p * out_plane + o] = static_cast<int32_t>(i);
        if (indices) indices[p * out_plane + o] = p * in_plane + (column_major_ ? column_major(i) : i);
      });
  }

  // What a window outside x holds: -inf where T has it.
  template <typename T>
  static T lowest() {
    if constexpr (std::is_integral_v<T>) return std::numeric_limits<T>::lowest();
    else return T(-std::numeric_limits<float>::infinity());
  }

  // A row-major offset within a plane, counted column-major instead (the first axis fastest).
  int64_t column_major(int64_t i) const {
    const PoolAxis* a = search_.geometry().axes;
    const int64_t d2 = i % a[2].in, d1 = (i / a[2].in) % a[1].in, d0 = i / (a[2].in * a[1].in);
    return d0 + a[0].in * (d1 + a[1].in * d2);
  }

  MaxWindowSearch search_;
  bool record_;        // fc.MaxPoolTraining: write argmax (i32, within the plane) too
  bool indices_;       // MaxPool's Indices output (i64, into the flattened x)
  bool column_major_;  // storage_order = 1
  std::vector<float> widened_;  // x as floats, for other element types
};

KernelFactory window_max_pool() {
  return [](const KernelSpec& s) {
    return std::make_unique<MaxPoolKernel>(s, pool_geometry(s.node, s.inputs[0].sizes()));
  };
}

}  // namespace

FC_REGISTER_CPU_KERNEL("MaxPool", window_max_pool());
FC_REGISTER_CPU_KERNEL("fc::MaxPoolTraining", window_max_pool());
FC_REGISTER_CPU_KERNEL("GlobalMaxPool", [](const KernelSpec& s) {
  return std::make_unique<MaxPoolKernel>(s, global_pool_geometry(s.inputs[0].sizes()));
});

}  // namespace fc::runtime::cpu
