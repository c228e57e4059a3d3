// CPU kernels for ReduceSum / ReduceMean / ReduceMax / ReduceMin. x: any shape, f32; y: x with the
// reduced dims removed or set to 1.
//
// The input dims are merged into alternating kept/reduced groups (adjacent dims of a row-major
// tensor always merge). If the innermost group is kept, its L elements are "lanes": contiguous in
// both x and y, they are accumulated side by side, so reducing [N, C] over N streams through memory
// instead of striding. Work items are (outer output index, chunk of lanes); each accumulates over
// the reduced groups in a fixed order, so the result does not depend on the thread count. Sums
// accumulate in double (exact enough that ReduceMean over millions of floats stays correctly rounded
// in practice).
#include <algorithm>
#include <cmath>
#include <limits>

#include "ir/ops/reduce.h"
#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"
#include "runtime/cpu/kernels/reduce_plan.h"

namespace fc::runtime::cpu {
namespace {

struct SumAcc {
  using Acc = double;
  static Acc init() { return 0.0; }
  static Acc add(Acc a, float x) { return a + x; }
  static float finish(Acc a, int64_t) { return static_cast<float>(a); }
};
struct MeanAcc : SumAcc {
  static float finish(Acc a, int64_t n) { return static_cast<float>(a / static_cast<double>(n)); }
};
// NaN propagates: once the accumulator is NaN it stays NaN.
struct MaxAcc {
  using Acc = float;
  static Acc init() { return -std::numeric_limits<float>::infinity(); }
  static Acc add(Acc a, float x) { return (x > a || x != x) && a == a ? x : a; }
  static float finish(Acc a, int64_t) { return a; }
};
struct MinAcc {
  using Acc = float;
  static Acc init() { return std::numeric_limits<float>::infinity(); }
  static Acc add(Acc a, float x) { return (x < a || x != x) && a == a ? x : a; }
  static float finish(Acc a, int64_t) { return a; }
};


template <typename Op>
void reduce(const ReducePlan& p, const float* x, float* y) {
  using Acc = typename Op::Acc;
  for_each_item(p, [&](int64_t out_offset, int64_t nl, auto&& run) {
    Acc acc[kReduceLaneChunk];
    std::fill(acc, acc + nl, Op::init());
    run([&](int64_t off, int64_t stride, int64_t n) {
      if (nl == 1) {
        Acc a = acc[0];
        for (int64_t j = 0; j < n; ++j) a = Op::add(a, x[off + j * stride]);
        acc[0] = a;
      } else {
        for (int64_t j = 0; j < n; ++j) {
          const float* row = x + off + j * stride;
          for (int64_t l = 0; l < nl; ++l) acc[l] = Op::add(acc[l], row[l]);
        }
      }
    });
    for (int64_t l = 0; l < nl; ++l) y[out_offset + l] = Op::finish(acc[l], p.count);
  });
}

template <typename Op>
void add_reduce(const char* op) {
  KernelRegistry::global().add(op, [](const KernelSpec& spec) {
    const ReducePlan plan = plan_reduce(spec.inputs[0].sizes(),
                                        ir::reduced_axes(spec.node, static_cast<int64_t>(spec.inputs[0].rank())));
    return make_function_kernel(spec, [plan](const KernelSpec&, const std::vector<const Tensor*>& in,
                                             std::vector<Tensor>& out) {
      reduce<Op>(plan, in[0]->data<float>(), out[0].data<float>());
    });
  });
}

[[maybe_unused]] const bool registered = [] {
  add_reduce<SumAcc>("ReduceSum");
  add_reduce<MeanAcc>("ReduceMean");
  add_reduce<MaxAcc>("ReduceMax");
  add_reduce<MinAcc>("ReduceMin");
  return true;
}();

}  // namespace
}  // namespace fc::runtime::cpu
