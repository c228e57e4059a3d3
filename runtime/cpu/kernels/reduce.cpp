// CPU kernels for ReduceSum / ReduceMean / ReduceMax / ReduceMin. x: any shape, any numeric type (bool
// for max/min); y: x with the reduced dims removed or set to 1.
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

// Sums of floats accumulate in double; of integers in 64 bits, wrapping as numpy's do (unsigned).
template <typename T>
using SumOf = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;

template <typename T>
struct SumAcc {
  using Acc = SumOf<T>;
  static Acc init() { return 0; }
  static Acc add(Acc a, T x) {
    if constexpr (std::is_integral_v<T>) return a + static_cast<Acc>(static_cast<int64_t>(x));
    else return a + static_cast<double>(x);
  }
  static T finish(Acc a, int64_t) { return to_element(a); }
  static T to_element(Acc a) {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(a);
    else if constexpr (ir::is_narrow_float_v<T>) return T(a);
    else return static_cast<T>(a);
  }
};
// Integer means truncate toward zero (ONNX Runtime's rule).
template <typename T>
struct MeanAcc : SumAcc<T> {
  static T finish(SumOf<T> a, int64_t n) {
    if constexpr (std::is_integral_v<T>) {
      if constexpr (std::is_signed_v<T>) return static_cast<T>(static_cast<int64_t>(a) / n);
      else return static_cast<T>(a / static_cast<uint64_t>(n));
    } else {
      return SumAcc<T>::to_element(a / static_cast<double>(n));
    }
  }
};
// The identity of max (lowest) and min (highest): infinities for floats, limits for integers and bool.
template <typename T>
T lowest_of() {
  if constexpr (std::is_floating_point_v<T> || ir::is_narrow_float_v<T>) return T(-INFINITY);
  else return std::numeric_limits<T>::lowest();
}
template <typename T>
T highest_of() {
  if constexpr (std::is_floating_point_v<T> || ir::is_narrow_float_v<T>) return T(INFINITY);
  else return std::numeric_limits<T>::max();
}
// NaN propagates: once the accumulator is NaN it stays NaN.
template <typename T>
struct MaxAcc {
  using Acc = T;
  static Acc init() { return lowest_of<T>(); }
  static Acc add(Acc a, T x) { return (x > a || x != x) && a == a ? x : a; }
  static T finish(Acc a, int64_t) { return a; }
};
template <typename T>
struct MinAcc {
  using Acc = T;
  static Acc init() { return highest_of<T>(); }
  static Acc add(Acc a, T x) { return (x < a || x != x) && a == a ? x : a; }
  static T finish(Acc a, int64_t) { return a; }
};

template <typename Op, typename T>
void reduce(const ReducePlan& p, const T* x, T* y) {
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
          const T* row = x + off + j * stride;
          for (int64_t l = 0; l < nl; ++l) acc[l] = Op::add(acc[l], row[l]);
        }
      }
    });
    for (int64_t l = 0; l < nl; ++l) y[out_offset + l] = Op::finish(acc[l], p.count);
  });
}

template <template <typename> class Op>
void add_reduce(const char* op) {
  KernelRegistry::global().add(op, [](const KernelSpec& spec) {
    const ReducePlan plan = plan_reduce(spec.inputs[0].sizes(),
                                        ir::reduced_axes(spec.node, static_cast<int64_t>(spec.inputs[0].rank())));
    return make_function_kernel(spec, [plan](const KernelSpec& s, const std::vector<const Tensor*>& in,
                                             std::vector<Tensor>& out) {
      dispatch_numeric_or_bool(s.inputs[0].dtype, s.node, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        if constexpr (std::is_same_v<T, bool> && !std::is_same_v<Op<T>, MaxAcc<T>> && !std::is_same_v<Op<T>, MinAcc<T>>)
          FC_ASSERT(false);  // bool sums are refused by type inference
        else
          reduce<Op<T>>(plan, in[0]->data<T>(), out[0].data<T>());
      });
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
