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

// Calls item(out_offset, lanes, run) for every work item, in parallel for large x; run(fn) calls
// fn(x_offset, stride, n) for the item's reduced positions in row-major order: n rows of `lanes`
// contiguous elements starting at x_offset + j * stride.
template <typename Item>
void for_each_item(const ReducePlan& p, Item&& item) {
  int64_t outer = 1;
  for (const ReduceGroup& g : p.outer) outer *= g.size;
  const int64_t chunks = (p.lanes + kReduceLaneChunk - 1) / kReduceLaneChunk;
  const ReduceGroup inner = p.reduced.empty() ? ReduceGroup{1, 0} : p.reduced.back();
  const int64_t rest = inner.size ? p.count / inner.size : 0;
  const size_t odometer_groups = p.reduced.empty() ? 0 : p.reduced.size() - 1;
  const int64_t total = outer * p.lanes * std::max<int64_t>(p.count, 1);
#pragma omp parallel for schedule(static) if (total > kParallelMinElements)
  for (int64_t it = 0; it < outer * chunks; ++it) {
    const int64_t o = it / chunks, l0 = (it % chunks) * kReduceLaneChunk;
    const int64_t nl = std::min(kReduceLaneChunk, p.lanes - l0);
    int64_t base = l0, r = o;
    for (size_t g = p.outer.size(); g-- > 0;) {
      base += (r % p.outer[g].size) * p.outer[g].stride;
      r /= p.outer[g].size;
    }
    item(o * p.lanes + l0, nl, [&](auto&& fn) {
      for (int64_t q = 0; q < rest; ++q) {
        int64_t off = base, t = q;
        for (size_t g = odometer_groups; g-- > 0;) {
          off += (t % p.reduced[g].size) * p.reduced[g].stride;
          t /= p.reduced[g].size;
        }
        fn(off, inner.stride, inner.size);
      }
    });
  }
}

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
