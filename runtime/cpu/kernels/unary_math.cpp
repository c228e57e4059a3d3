// CPU kernels for the unary elementwise ops of ir/ops/unary_math.cpp. x, y: any shape, same size.
// One map loop (unary_map) and a table of element functors; a functor with attributes reads them
// from the node when the kernel is built. Transcendental functions are evaluated in double and
// rounded once, so results are correctly rounded in almost every case (more accurate than the
// usual float implementations).
#include <cmath>
#include <string>
#include <type_traits>

#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"

namespace fc::runtime::cpu {
namespace {

using ir::Node;

// Evaluates a double -> double function on a float.
#define FC_F32_VIA_DOUBLE(expr)            \
  float operator()(float xf) const {       \
    const double x = xf;                   \
    return static_cast<float>(expr);       \
  }

struct SigmoidF {
  FC_F32_VIA_DOUBLE(1.0 / (1.0 + std::exp(-x)))
};
struct TanhF {
  FC_F32_VIA_DOUBLE(std::tanh(x))
};
struct ErfF {
  FC_F32_VIA_DOUBLE(std::erf(x))
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
  float operator()(float x) const { return std::sqrt(x); }
};
struct ReciprocalF {
  float operator()(float x) const { return 1.0f / x; }
};
struct FloorF {
  float operator()(float x) const { return std::floor(x); }
};
struct CeilF {
  float operator()(float x) const { return std::ceil(x); }
};
struct LeakyReluF {
  float alpha;
  explicit LeakyReluF(const Node& n) : alpha(n.attr_float("alpha")) {}
  float operator()(float x) const { return x >= 0 ? x : alpha * x; }
};
// Bounds default to +-inf; NaN passes through (as in PyTorch's clamp).
struct ClipF {
  float lo = -INFINITY, hi = INFINITY;
  explicit ClipF(const Node& n) {
    if (n.has_attr("min")) lo = n.attr_float("min");
    if (n.has_attr("max")) hi = n.attr_float("max");
  }
  float operator()(float x) const { return std::min(std::max(x, lo), hi); }
  // Integers: the bounds (integer values given as floats by the importer) compared in double.
  template <typename T>
  T operator()(T x) const {
    if (static_cast<double>(x) < static_cast<double>(lo)) return static_cast<T>(lo);
    if (static_cast<double>(x) > static_cast<double>(hi)) return static_cast<T>(hi);
    return x;
  }
};
struct NegF {
  template <typename T> T operator()(T x) const { return -x; }
};
struct AbsF {
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) return std::fabs(x);  // |-0| = +0
    else return x < 0 ? -x : x;
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

// Registers op -> y = F(x) for input element types Ts (output type = input type).
template <typename F, typename... Ts>
void add_unary(const char* op) {
  KernelRegistry::global().add(op, [](const KernelSpec& spec) {
    const F f = make_functor<F>(spec.node);
    return make_function_kernel(spec, [f](const KernelSpec& s, const std::vector<const Tensor*>& in,
                                          std::vector<Tensor>& out) {
      dispatch_dtype<Ts...>(s.inputs[0].dtype, s.node, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        unary_map<T, T>(*in[0], out[0], f);
      });
    }, OutputsOnEntry::Anything);
  });
}

[[maybe_unused]] const bool registered = [] {
  add_unary<LeakyReluF, float>("LeakyRelu");
  add_unary<ClipF, float, int64_t, int32_t, int16_t, int8_t, uint64_t, uint32_t, uint16_t, uint8_t>("Clip");
  add_unary<SigmoidF, float>("Sigmoid");
  add_unary<TanhF, float>("Tanh");
  add_unary<HardSigmoidF, float>("HardSigmoid");
  add_unary<HardSwishF, float>("HardSwish");
  add_unary<ErfF, float>("Erf");
  add_unary<GeluF, float>("Gelu");
  add_unary<SqrtF, float>("Sqrt");
  add_unary<ExpF, float>("Exp");
  add_unary<LogF, float>("Log");
  add_unary<NegF, float, int64_t>("Neg");
  add_unary<AbsF, float, int64_t>("Abs");
  add_unary<ReciprocalF, float>("Reciprocal");
  add_unary<FloorF, float>("Floor");
  add_unary<CeilF, float>("Ceil");
  add_unary<SoftplusF, float>("Softplus");
  add_unary<EluF, float>("Elu");
  add_unary<SeluF, float>("Selu");
  add_unary<NotF, bool>("Not");
  return true;
}();

}  // namespace
}  // namespace fc::runtime::cpu
