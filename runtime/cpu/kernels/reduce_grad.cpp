// CPU kernels for the reduction gradients of ir/ops/reduce.cpp. x, dx: any shape, f32; dy, y: the
// forward output (reduced dims removed or 1; the same element order either way).
//   fc.ReduceSumGrad / ReduceMeanGrad: dx[i] = dy[o(i)] (/ count)
//   fc.ReduceSelectGrad: dx[i] = dy[o(i)] at the first i (row-major over the reduced axes) with
//                        x[i] == y[o(i)], else 0
// They walk x with the forward's ReducePlan (reduce_plan.h): work items are (outer output index,
// chunk of contiguous lanes), each visiting its reduced positions in row-major order, so every dx
// element is written exactly once, "first" is well defined, and items run in parallel.
#include <algorithm>

#include "ir/ops/reduce.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"
#include "runtime/cpu/kernels/reduce_plan.h"

namespace fc::runtime::cpu {
namespace {

// dx = dy broadcast back, divided by the reduced count for the mean (as PyTorch: grad / N).
template <bool kMean>
void broadcast_back(const ReducePlan& p, const float* dy, float* dx) {
  const float count = static_cast<float>(p.count);
  auto g = [&](int64_t o) { return kMean ? dy[o] / count : dy[o]; };
  for_each_item(p, [&](int64_t oo, int64_t nl, auto&& run) {
    run([&](int64_t off, int64_t stride, int64_t n) {
      if (nl == 1) {
        const float v = g(oo);
        for (int64_t j = 0; j < n; ++j) dx[off + j * stride] = v;
      } else {
        for (int64_t j = 0; j < n; ++j) {
          float* row = dx + off + j * stride;
#pragma omp simd
          for (int64_t l = 0; l < nl; ++l) row[l] = g(oo + l);
        }
      }
    });
  });
}

void select_back(const ReducePlan& p, const float* dy, const float* x, const float* y, float* dx) {
  for_each_item(p, [&](int64_t oo, int64_t nl, auto&& run) {
    bool claimed[kReduceLaneChunk];
    std::fill(claimed, claimed + nl, false);
    run([&](int64_t off, int64_t stride, int64_t n) {
      for (int64_t j = 0; j < n; ++j)
        for (int64_t l = 0; l < nl; ++l) {
          const int64_t i = off + j * stride + l;
          const bool hit = !claimed[l] && x[i] == y[oo + l];
          dx[i] = hit ? dy[oo + l] : 0.0f;
          claimed[l] = claimed[l] || hit;
        }
    });
  });
}

ReducePlan plan_for(const KernelSpec& spec) {
  const ir::TensorType& x = spec.inputs[1];
  return plan_reduce(x.sizes(), ir::reduced_axes(spec.node, static_cast<int64_t>(x.rank())));
}

template <bool kMean>
void add_broadcast_back(const char* op) {
  KernelRegistry::global().add(op, [](const KernelSpec& spec) {
    return make_function_kernel(spec, [plan = plan_for(spec)](const KernelSpec&, const std::vector<const Tensor*>& in,
                                                              std::vector<Tensor>& out) {
      broadcast_back<kMean>(plan, in[0]->data<float>(), out[0].data<float>());
    });
  });
}

[[maybe_unused]] const bool registered = [] {
  add_broadcast_back<false>("fc::ReduceSumGrad");
  add_broadcast_back<true>("fc::ReduceMeanGrad");
  KernelRegistry::global().add("fc::ReduceSelectGrad", [](const KernelSpec& spec) {
    return make_function_kernel(spec, [plan = plan_for(spec)](const KernelSpec&, const std::vector<const Tensor*>& in,
                                                              std::vector<Tensor>& out) {
      select_back(plan, in[0]->data<float>(), in[1]->data<float>(), in[2]->data<float>(), out[0].data<float>());
    });
  });
  return true;
}();

}  // namespace
}  // namespace fc::runtime::cpu
