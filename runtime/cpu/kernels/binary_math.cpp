// CPU kernels for the broadcasting ops of ir/ops/binary_math.cpp: a, b (, ...) broadcast to y's
// shape by the one loop of broadcast_loop.h; this file is a table of element functors.
// Variadic ops fold their inputs into y: y = f(in0, in1), then y = f(y, in_k) in place.
#include <cmath>
#include <type_traits>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"

namespace fc::runtime::cpu {
namespace {

struct AddF {
  template <typename T> T operator()(T a, T b) const { return a + b; }
};
struct SubF {
  template <typename T> T operator()(T a, T b) const { return a - b; }
};
struct MulF {
  template <typename T> T operator()(T a, T b) const { return a * b; }
};
// C division: integers truncate toward zero (divisors are checked for zero before the loop).
struct DivF {
  template <typename T> T operator()(T a, T b) const { return a / b; }
};
// In double, rounded once; the exponent may be an integer tensor.
struct PowF {
  template <typename E> float operator()(float a, E b) const {
    return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  }
};
// NaN propagates (as torch.maximum/minimum): `a != a` is only true for NaN.
struct MaxF {
  template <typename T> T operator()(T a, T b) const { return (a > b || a != a) ? a : b; }
};
struct MinF {
  template <typename T> T operator()(T a, T b) const { return (a < b || a != a) ? a : b; }
};
struct EqualF {
  template <typename T> bool operator()(T a, T b) const { return a == b; }
};
struct LessF {
  template <typename T> bool operator()(T a, T b) const { return a < b; }
};
struct GreaterF {
  template <typename T> bool operator()(T a, T b) const { return a > b; }
};

using In = std::vector<const Tensor*>;
using Out = std::vector<Tensor>;

template <typename T>
void check_nonzero_divisor(const KernelSpec& s, const Tensor& b) {
  if constexpr (std::is_integral_v<T>) {
    const T* p = b.data<T>();
    for (size_t i = 0; i < b.numel(); ++i)
      FC_CHECK(p[i] != 0, s.node.describe(), ": integer division by zero");
  }
}

// y = F(a, b) with y of type R (void: same as the inputs), for input element types Ts.
template <typename F, typename R, typename... Ts>
void add_binary(const char* op) {
  KernelRegistry::global().add(op, [](const KernelSpec& spec) {
    return make_function_kernel(spec, [](const KernelSpec& s, const In& in, Out& out) {
      dispatch_dtype<Ts...>(s.inputs[0].dtype, s.node, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        using Y = std::conditional_t<std::is_void_v<R>, T, R>;
        if constexpr (std::is_same_v<F, DivF>) check_nonzero_divisor<T>(s, *in[1]);
        broadcast_binary<T, T, Y>(*in[0], *in[1], out[0], F{});
      });
    }, OutputsOnEntry::Anything);
  });
}

// Max/Min/Sum/Mean over any number of inputs; Mean divides the sum by the input count.
template <typename F, bool kMean, typename... Ts>
void add_variadic(const char* op) {
  KernelRegistry::global().add(op, [](const KernelSpec& spec) {
    return make_function_kernel(spec, [](const KernelSpec& s, const In& in, Out& out) {
      dispatch_dtype<Ts...>(s.inputs[0].dtype, s.node, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        Tensor& y = out[0];
        size_t k = 1;
        if (in.size() >= 2 && ir::broadcast_sizes(in[0]->dims(), in[1]->dims()) == y.dims()) {
          broadcast_binary<T, T, T>(*in[0], *in[1], y, F{});
          k = 2;
        } else {
          broadcast_copy<T>(*in[0], y);
        }
        for (; k < in.size(); ++k) broadcast_binary<T, T, T>(y, *in[k], y, F{});
        if constexpr (kMean) {
          const T n = static_cast<T>(in.size());
          unary_map<T, T>(y, y, [n](T v) { return v / n; });
        }
      });
    }, OutputsOnEntry::Anything);
  });
}

void pow_kernel(const KernelSpec& s, const In& in, Out& out) {
  dispatch_dtype<float, int64_t>(s.inputs[1].dtype, s.node, [&](auto* tag) {
    using E = std::remove_pointer_t<decltype(tag)>;
    broadcast_binary<float, E, float>(*in[0], *in[1], out[0], PowF{});
  });
}

// y = cond ? x : y, all three broadcast.
void where_kernel(const KernelSpec& s, const In& in, Out& out) {
  dispatch_dtype<float, double, int64_t, int32_t, bool>(s.inputs[1].dtype, s.node, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    broadcast_ternary<bool, T, T, T>(*in[0], *in[1], *in[2], out[0], [](bool c, T a, T b) { return c ? a : b; });
  });
}

[[maybe_unused]] const bool registered = [] {
  add_binary<AddF, void, float, double, int64_t>("Add");
  add_binary<SubF, void, float, double, int64_t>("Sub");
  add_binary<MulF, void, float, double, int64_t>("Mul");
  add_binary<DivF, void, float, double, int64_t>("Div");
  add_binary<EqualF, bool, float, double, int64_t, bool>("Equal");
  add_binary<LessF, bool, float, double, int64_t>("Less");
  add_binary<GreaterF, bool, float, double, int64_t>("Greater");
  add_variadic<MaxF, false, float, double, int64_t>("Max");
  add_variadic<MinF, false, float, double, int64_t>("Min");
  add_variadic<AddF, false, float, double, int64_t>("Sum");
  add_variadic<AddF, true, float>("Mean");
  return true;
}();

}  // namespace

FC_REGISTER_CPU_FN("Pow", pow_kernel);
FC_REGISTER_CPU_FN("Where", where_kernel);

}  // namespace fc::runtime::cpu
