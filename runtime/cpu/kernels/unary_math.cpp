// CPU kernels for the unary elementwise ops of ir/ops/unary_math.cpp. x, y: any shape, same size.
// One map loop (unary_map) and a table of element functors; a functor with attributes reads them
// from the node when the kernel is built. Transcendental functions are evaluated in double and
// rounded once, so results are correctly rounded in almost every case (more accurate than the
// usual float implementations); Erf on f32 is the exception (see ErfF).
#include <cmath>
#include <string>
#include <type_traits>

#include "ir/float_math.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"

namespace fc::runtime::cpu {
namespace {

using ir::Node;

// Evaluates a double -> double function on a float (and, for f64 tensors, on a double).
#define FC_F32_VIA_DOUBLE(expr)            \
  float operator()(float xf) const {       \
    const double x = xf;                   \
    return static_cast<float>(expr);       \
  }                                        \
  double operator()(double x) const { return expr; }

struct SigmoidF {
  FC_F32_VIA_DOUBLE(1.0 / (1.0 + std::exp(-x)))
};
struct TanhF {
  FC_F32_VIA_DOUBLE(std::tanh(x))
};
// f32: ir/float_math.h's erf (at most 1 ulp), what a fused kernel computes for Erf, so that GELU's
// chain fuses with the same bits; other types in double, rounded once.
struct ErfF {
  float operator()(float x) const { return ir::float_math::erf_f32(x); }
  double operator()(double x) const { return std::erf(x); }
};
struct ExpF {
  FC_F32_VIA_DOUBLE(std::exp(x))
};
bool gelu_is_tanh(const Node& n) {
  const std::string& a = n.attr_string("approximate");
  FC_CHECK(a == "none" || a == "tanh", n.describe(), ": approximate must be \"none\" or \"tanh\", is \"", a, "\"");
  return a == "tanh";
}

// PyTorch's F.gelu: x * Phi(x), or with approximate="tanh" 0.5 x (1 + tanh(z)), z = sqrt(2/pi) (x +
// 0.044715 x^3). Written as x * erfc(-x / sqrt 2) / 2 and x / (1 + e^(-2z)) (the same functions) so
// that nothing cancels for large negative x.
struct GeluF {
  bool tanh_form;
  explicit GeluF(const Node& n) : tanh_form(gelu_is_tanh(n)) {}
  FC_F32_VIA_DOUBLE(tanh_form ? x / (1.0 + std::exp(-2.0 * 0.7978845608028654 * (x + 0.044715 * x * x * x)))
                              : 0.5 * x * std::erfc(-x * 0.7071067811865476))
};
struct LogF {
  FC_F32_VIA_DOUBLE(std::log(x))
};
// log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large |x|.
struct SoftplusF {
  FC_F32_VIA_DOUBLE(std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))))
};
struct HardSwishF {
  FC_F32_VIA_DOUBLE(x * std::clamp(x / 6.0 + 0.5, 0.0, 1.0))
};
struct HardSigmoidF {
  double alpha, beta;
  explicit HardSigmoidF(const Node& n) : alpha(n.attr_float("alpha")), beta(n.attr_float("beta")) {}
  FC_F32_VIA_DOUBLE(std::clamp(alpha * x + beta, 0.0, 1.0))
};
struct EluF {
  double alpha;
  explicit EluF(const Node& n) : alpha(n.attr_float("alpha")) {}
  FC_F32_VIA_DOUBLE(x > 0 ? x : alpha * std::expm1(x))
};
struct SeluF {
  double alpha, gamma;
  explicit SeluF(const Node& n) : alpha(n.attr_float("alpha")), gamma(n.attr_float("gamma")) {}
  FC_F32_VIA_DOUBLE(gamma * (x > 0 ? x : alpha * std::expm1(x)))
};
#undef FC_F32_VIA_DOUBLE

// Exactly rounded in float already.
struct SqrtF {
  template <typename T> T operator()(T x) const { return std::sqrt(x); }
};
struct ReciprocalF {
  template <typename T> T operator()(T x) const { return T(1) / x; }
};
struct FloorF {
  template <typename T> T operator()(T x) const { return std::floor(x); }
};
struct CeilF {
  template <typename T> T operator()(T x) const { return std::ceil(x); }
};
struct LeakyReluF {
  float alpha;
  explicit LeakyReluF(const Node& n) : alpha(n.attr_float("alpha")) {}
  template <typename T> T operator()(T x) const { return x >= 0 ? x : static_cast<T>(alpha) * x; }
};
// Bounds default to +-inf; NaN passes through (as in PyTorch's clamp).
struct ClipF {
  float lo = -INFINITY, hi = INFINITY;
  explicit ClipF(const Node& n) {
    if (n.has_attr("min")) lo = n.attr_float("min");
    if (n.has_attr("max")) hi = n.attr_float("max");
  }
  float operator()(float x) const { return std::min(std::max(x, lo), hi); }
  // Other types: the bounds (integer values given as floats by the importer) compared in double.
  template <typename T>
  T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(x)) return x;
    if (static_cast<double>(x) < static_cast<double>(lo)) return static_cast<T>(lo);
    if (static_cast<double>(x) > static_cast<double>(hi)) return static_cast<T>(hi);
    return x;
  }
};
// Integers wrap (numpy's -int8(-128) is -128): negated in the unsigned type of the same width.
struct NegF {
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) {
      using U = std::make_unsigned_t<T>;
      return static_cast<T>(static_cast<U>(-static_cast<U>(x)));
    } else {
      return -x;
    }
  }
};
struct AbsF {
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) return std::fabs(x);  // |-0| = +0
    else if constexpr (std::is_unsigned_v<T>) return x;
    else return x < 0 ? NegF{}(x) : x;
  }
};
struct NotF {
  bool operator()(bool x) const { return !x; }
};

template <typename F>
F make_functor(const Node& n) {
  if constexpr (std::is_constructible_v<F, const Node&>) return F(n);
  else return F{};
}

// Registers op -> y = F(x) for input element types Ts (output type = input type). float16 and
// bfloat16 elements are computed in double (F's double form) and rounded once.
template <typename F, typename... Ts>
void add_unary(const char* op) {
  KernelRegistry::global().add(op, [](const KernelSpec& spec) {
    const F f = make_functor<F>(spec.node);
    return make_function_kernel(spec, [f](const KernelSpec& s, const std::vector<const Tensor*>& in,
                                          std::vector<Tensor>& out) {
      dispatch_dtype<Ts...>(s.inputs[0].dtype, s.node, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        if constexpr (ir::NarrowFloat<T>)
          unary_map<T, T>(*in[0], out[0], [&f](T x) { return T(f(static_cast<double>(static_cast<float>(x)))); });
        else
          unary_map<T, T>(*in[0], out[0], f);
      });
    }, OutputsOnEntry::Anything);
  });
}

// The floating-point element types of the float ops (ir/ops/unary_math.cpp's kFloats).
#define FC_FLOATS float, double, ir::Half, ir::BFloat16

[[maybe_unused]] const bool registered = [] {
  add_unary<LeakyReluF, FC_FLOATS>("LeakyRelu");
  add_unary<ClipF, FC_FLOATS, int64_t, int32_t, int16_t, int8_t, uint64_t, uint32_t, uint16_t, uint8_t>("Clip");
  add_unary<SigmoidF, FC_FLOATS>("Sigmoid");
  add_unary<TanhF, FC_FLOATS>("Tanh");
  add_unary<HardSigmoidF, FC_FLOATS>("HardSigmoid");
  add_unary<HardSwishF, FC_FLOATS>("HardSwish");
  add_unary<ErfF, FC_FLOATS>("Erf");
  add_unary<GeluF, FC_FLOATS>("Gelu");
  add_unary<SqrtF, FC_FLOATS>("Sqrt");
  add_unary<ExpF, FC_FLOATS>("Exp");
  add_unary<LogF, FC_FLOATS>("Log");
  add_unary<NegF, FC_FLOATS, int64_t, int32_t, int16_t, int8_t>("Neg");
  add_unary<AbsF, FC_FLOATS, int64_t, int32_t, int16_t, int8_t, uint64_t, uint32_t, uint16_t, uint8_t>("Abs");
  add_unary<ReciprocalF, FC_FLOATS>("Reciprocal");
  add_unary<FloorF, FC_FLOATS>("Floor");
  add_unary<CeilF, FC_FLOATS>("Ceil");
  add_unary<SoftplusF, FC_FLOATS>("Softplus");
  add_unary<EluF, FC_FLOATS>("Elu");
  add_unary<SeluF, FC_FLOATS>("Selu");
  add_unary<NotF, bool>("Not");
  return true;
}();
#undef FC_FLOATS

}  // namespace
}  // namespace fc::runtime::cpu
