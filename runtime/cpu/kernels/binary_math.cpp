// CPU kernels for the broadcasting ops of ir/ops/binary_math.cpp: a, b (, ...) broadcast to y's
// shape by the one loop of broadcast_loop.h; this file is a table of element functors.
// Variadic ops fold their inputs into y: y = f(in0, in1), then y = f(y, in_k) in place.
#include <cmath>
#include <type_traits>

#include "ir/shape_util.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"
#include "runtime/cpu/kernels/movement_common.h"

namespace fc::runtime::cpu {
namespace {

// Integers wrap, as numpy's do: computed in the unsigned type of the same width (signed overflow is
// undefined in C++; unsigned arithmetic is modulo 2^bits), which 8/16-bit types first promote to.
template <typename T, typename F>
T wrapping(T a, T b, F f) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    using Wide = std::conditional_t<(sizeof(U) < sizeof(unsigned)), unsigned, U>;
    return static_cast<T>(static_cast<U>(f(static_cast<Wide>(static_cast<U>(a)), static_cast<Wide>(static_cast<U>(b)))));
  } else {
    return f(a, b);
  }
}
struct AddF {
  template <typename T> T operator()(T a, T b) const { return wrapping(a, b, [](auto x, auto y) { return x + y; }); }
};
struct SubF {
  template <typename T> T operator()(T a, T b) const { return wrapping(a, b, [](auto x, auto y) { return x - y; }); }
};
struct MulF {
  template <typename T> T operator()(T a, T b) const { return wrapping(a, b, [](auto x, auto y) { return x * y; }); }
};
// C division: integers truncate toward zero (divisors are checked for zero before the loop).
struct DivF {
  template <typename T> T operator()(T a, T b) const { return a / b; }
};
// In double, converted once to the base's type (integers truncate, as numpy's astype); the exponent
// may be of any numeric type.
template <typename T>
struct PowF {
  template <typename E> T operator()(T a, E b) const {
    const double r = std::pow(static_cast<double>(a), static_cast<double>(b));
    if constexpr (std::is_integral_v<T>) return convert_element<T>(r);
    else return T(r);
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

// y = F(a, b) with y of type R (void: same as the inputs), for every numeric input type (and bool
// where kWithBool).
template <typename F, typename R, bool kWithBool = false>
void add_binary(const char* op) {
  KernelRegistry::global().add(op, [](const KernelSpec& spec) {
    return make_function_kernel(spec, [](const KernelSpec& s, const In& in, Out& out) {
      auto run = [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        using Y = std::conditional_t<std::is_void_v<R>, T, R>;
        if constexpr (std::is_same_v<F, DivF>) check_nonzero_divisor<T>(s, *in[1]);
        broadcast_binary<T, T, Y>(*in[0], *in[1], out[0], F{});
      };
      if constexpr (kWithBool) dispatch_any_dtype(s.inputs[0].dtype, s.node, run);
      else dispatch_numeric(s.inputs[0].dtype, s.node, run);
    }, OutputsOnEntry::Anything);
  });
}

// Max/Min/Sum/Mean over any number of inputs; Mean divides the sum by the input count.
template <typename F, bool kMean>
void add_variadic(const char* op) {
  KernelRegistry::global().add(op, [](const KernelSpec& spec) {
    return make_function_kernel(spec, [](const KernelSpec& s, const In& in, Out& out) {
      dispatch_numeric(s.inputs[0].dtype, s.node, [&](auto* tag) {
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
        if constexpr (kMean && !std::is_integral_v<T>) {  // Mean takes floats only (ir/ops/binary_math.cpp)
          const T n = static_cast<T>(in.size());
          unary_map<T, T>(y, y, [n](T v) { return v / n; });
        }
      });
    }, OutputsOnEntry::Anything);
  });
}

void pow_kernel(const KernelSpec& s, const In& in, Out& out) {
  dispatch_numeric(s.inputs[0].dtype, s.node, [&](auto* base_tag) {
    using T = std::remove_pointer_t<decltype(base_tag)>;
    dispatch_numeric(s.inputs[1].dtype, s.node, [&](auto* exponent_tag) {
      using E = std::remove_pointer_t<decltype(exponent_tag)>;
      broadcast_binary<T, E, T>(*in[0], *in[1], out[0], PowF<T>{});
    });
  });
}

// Mod: fmod = 1 takes the dividend's sign (C's fmod and %), fmod = 0 the divisor's (Python's %,
// integers only: ir/ops/binary_math.cpp refuses it for floats). Divisors are checked for zero
// first (integers).
template <typename T>
struct ModF {
  bool c_style;
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      const T r = static_cast<T>(a % b);
      if constexpr (std::is_signed_v<T>)
        if (!c_style && r != 0 && ((r < 0) != (b < 0))) return static_cast<T>(r + b);
      return r;
    } else {
      return T(std::fmod(static_cast<double>(a), static_cast<double>(b)));
    }
  }
};

void mod_kernel(const KernelSpec& s, const In& in, Out& out) {
  const bool c_style = s.node.attr_int("fmod") != 0;
  dispatch_numeric(s.inputs[0].dtype, s.node, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    check_nonzero_divisor<T>(s, *in[1]);
    broadcast_binary<T, T, T>(*in[0], *in[1], out[0], ModF<T>{c_style});
  });
}

// y = cond ? x : y, all three broadcast.
void where_kernel(const KernelSpec& s, const In& in, Out& out) {
  dispatch_any_dtype(s.inputs[1].dtype, s.node, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    broadcast_ternary<bool, T, T, T>(*in[0], *in[1], *in[2], out[0], [](bool c, T a, T b) { return c ? a : b; });
  });
}

[[maybe_unused]] const bool registered = [] {
  add_binary<AddF, void>("Add");
  add_binary<SubF, void>("Sub");
  add_binary<MulF, void>("Mul");
  add_binary<DivF, void>("Div");
  add_binary<EqualF, bool, true>("Equal");
  add_binary<LessF, bool>("Less");
  add_binary<GreaterF, bool>("Greater");
  add_variadic<MaxF, false>("Max");
  add_variadic<MinF, false>("Min");
  add_variadic<AddF, false>("Sum");
  add_variadic<AddF, true>("Mean");
  return true;
}();

}  // namespace

FC_REGISTER_CPU_FN("Pow", pow_kernel);
FC_REGISTER_CPU_FN("Mod", mod_kernel);
FC_REGISTER_CPU_FN("Where", where_kernel);

}  // namespace fc::runtime::cpu
