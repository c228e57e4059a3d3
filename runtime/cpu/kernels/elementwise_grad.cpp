// CPU kernels for the backward-only elementwise ops of ir/ops/elementwise_grads.cpp.
//   activation grads: dy, s (saved x or y), dx: any shape, all the same size, f32 — one zip_map pass
//   PowGradBase / PowGradExponent: dy [out], a, b broadcastable to [out]; result [out]
// A table of element functors, as in unary_math.cpp. Short products without cancellation are
// evaluated in float in PyTorch's order (at most PyTorch's rounding error); formulas with a
// transcendental or a cancellation are evaluated in double and rounded once, as the forward kernels.
#include <cmath>
#include <string>
#include <type_traits>

#include "ir/float_math.h"
#include "runtime/cpu/kernel_registry.h"
#include "runtime/cpu/kernels/broadcast_loop.h"

namespace fc::runtime::cpu {
namespace {

using ir::Node;

struct ReluGradF {  // (dy, y)
  float operator()(float dy, float y) const { return y > 0 ? dy : 0.0f; }
};
struct LeakyReluGradF {  // (dy, x)
  float alpha;
  explicit LeakyReluGradF(const Node& n) : alpha(n.attr_float("alpha")) {}
  float operator()(float dy, float x) const { return x > 0 ? dy : dy * alpha; }
};
// Inclusive bounds (torch.clamp's backward): the gradient passes at x == min and x == max.
struct ClipGradF {  // (dy, x)
  float lo = -INFINITY, hi = INFINITY;
  explicit ClipGradF(const Node& n) {
    if (n.has_attr("min")) lo = n.attr_float("min");
    if (n.has_attr("max")) hi = n.attr_float("max");
  }
  float operator()(float dy, float x) const { return (x >= lo && x <= hi) ? dy : 0.0f; }
};
struct SigmoidGradF {  // (dy, y)
  float operator()(float dy, float y) const { return dy * (1.0f - y) * y; }
};
// (1 - y)(1 + y) rather than PyTorch's 1 - y * y: one factor is exact for |y| >= 1/2, so there is no
// cancellation as |y| -> 1 (relative error ~2 ulp instead of unbounded), at the same cost.
struct TanhGradF {  // (dy, y)
  float operator()(float dy, float y) const { return dy * ((1.0f - y) * (1.0f + y)); }
};
// The linear region is decided on alpha * x + beta in double, exactly as the forward kernel clamps
// it, so the gradient is alpha wherever the forward output is not saturated (strict at both ends,
// as PyTorch's hardsigmoid_backward).
struct HardSigmoidGradF {  // (dy, x)
  double alpha, beta;
  explicit HardSigmoidGradF(const Node& n) : alpha(n.attr_float("alpha")), beta(n.attr_float("beta")) {}
  float operator()(float dy, float x) const {
    const double v = alpha * x + beta;
    return (v > 0.0 && v < 1.0) ? static_cast<float>(alpha * dy) : 0.0f;
  }
};
// PyTorch's hardswish_backward, boundaries included: 0 below -3, x / 3 + 1/2 on [-3, 3], 1 above.
// In double: x / 3 + 1/2 cancels near x = -3/2.
struct HardSwishGradF {  // (dy, x)
  float operator()(float dy, float x) const {
    return x < -3.0f ? 0.0f : x <= 3.0f ? static_cast<float>(dy * (x / 3.0 + 0.5)) : dy;
  }
};
// In float, as its scalar form (ir/ops/elementwise_grads.cpp) computes it in a fused kernel.
struct ErfGradF {  // (dy, x)
  float operator()(float dy, float x) const {
    return dy * (1.1283791670955126f * ir::float_math::exp_minus_square(x));  // 2 / sqrt(pi)
  }
};
// PyTorch's gelu_backward, in double: "none": Phi(x) + x phi(x); "tanh": the derivative of
// 0.5 x (1 + tanh(z)), z = k (x + 0.044715 x^3), k = sqrt(2 / pi), with s = (1 + tanh z) / 2 =
// 1 / (1 + e^(-2z)): s + 2 x s (1 - s) k (1 + 3 * 0.044715 x^2) (no cancellation for large |x|).
struct GeluGradF {  // (dy, x)
  bool tanh_form;
  explicit GeluGradF(const Node& n) : tanh_form(n.attr_string("approximate") == "tanh") {
    const std::string& a = n.attr_string("approximate");
    FC_CHECK(a == "none" || a == "tanh", n.describe(), ": approximate must be \"none\" or \"tanh\"");
  }
  float operator()(float dy, float xf) const {
    const double x = xf;
    if (tanh_form) {
      const double k = 0.7978845608028654, s = 1 / (1 + std::exp(-2 * k * (x + 0.044715 * x * x * x)));
      return static_cast<float>(dy * (s + 2 * x * s * (1 - s) * k * (1 + 3 * 0.044715 * x * x)));
    }
    const double cdf = 0.5 * std::erfc(-x * 0.7071067811865476);
    const double pdf = std::exp(-0.5 * x * x) * 0.3989422804014327;  // 1 / sqrt(2 pi)
    return static_cast<float>(dy * (cdf + x * pdf));
  }
};
struct SqrtGradF {  // (dy, y)
  float operator()(float dy, float y) const { return dy / (2.0f * y); }
};
struct AbsGradF {  // (dy, x)
  float operator()(float dy, float x) const { return x > 0 ? dy : x < 0 ? -dy : 0.0f; }
};
struct ReciprocalGradF {  // (dy, y)
  float operator()(float dy, float y) const { return -dy * (y * y); }
};
// d/dx log(1 + e^x) = sigmoid(x), without overflow for large |x|.
struct SoftplusGradF {  // (dy, x)
  float operator()(float dy, float xf) const {
    const double x = xf;
    return static_cast<float>(dy / (1.0 + std::exp(-x)));
  }
};
// Elu (gamma = 1) and Selu; x = 0 takes the exponential branch, as PyTorch's elu_backward.
struct EluGradF {  // (dy, x)
  double alpha, gamma;
  explicit EluGradF(const Node& n) : alpha(n.attr_float("alpha")), gamma(n.attr_float("gamma")) {}
  float operator()(float dy, float xf) const {
    const double x = xf;
    return static_cast<float>(x > 0 ? gamma * dy : gamma * alpha * std::exp(x) * dy);
  }
};

// PyTorch's pow_backward_self: zero where the exponent is zero (also where a = 0).
struct PowGradBaseF {
  template <typename E> float operator()(float dy, float a, E b) const {
    const double e = static_cast<double>(b);
    return e == 0 ? 0.0f : static_cast<float>(dy * e * std::pow(static_cast<double>(a), e - 1));
  }
};
// PyTorch's pow_backward_exponent: zero where a = 0 and b >= 0 (0^b is flat in b there).
struct PowGradExponentF {
  float operator()(float dy, float a, float b) const {
    if (a == 0.0f && b >= 0.0f) return 0.0f;
    const double ad = a;
    return static_cast<float>(dy * std::pow(ad, static_cast<double>(b)) * std::log(ad));
  }
};

template <typename F>
F make_functor(const Node& n) {
  if constexpr (std::is_constructible_v<F, const Node&>) return F(n);
  else return F{};
}

// Registers fc::op -> dx = F(dy, saved).
template <typename F>
void add_activation_grad(const char* op) {
  KernelRegistry::global().add(std::string("fc::") + op, [](const KernelSpec& spec) {
    const F f = make_functor<F>(spec.node);
    return make_function_kernel(spec, [f](const KernelSpec& s, const std::vector<const Tensor*>& in,
                                          std::vector<Tensor>& out) {
      FC_CHECK(in[0]->numel() == in[1]->numel(), s.node.describe(), ": dy has ", in[0]->numel(),
               " elements but the saved tensor has ", in[1]->numel());
      zip_map<float, float, float>(*in[0], *in[1], out[0], f);
    }, OutputsOnEntry::Anything);
  });
}

void pow_grad_base(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  dispatch_dtype<float, int64_t>(s.inputs[2].dtype, s.node, [&](auto* tag) {
    using E = std::remove_pointer_t<decltype(tag)>;
    broadcast_ternary<float, float, E, float>(*in[0], *in[1], *in[2], out[0], PowGradBaseF{});
  });
}

void pow_grad_exponent(const KernelSpec& s, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  FC_CHECK(s.inputs[2].dtype == ir::DType::F32, s.node.describe(), ": exponent must be f32");
  broadcast_ternary<float, float, float, float>(*in[0], *in[1], *in[2], out[0], PowGradExponentF{});
}

[[maybe_unused]] const bool registered = [] {
  add_activation_grad<ReluGradF>("ReluGrad");
  add_activation_grad<LeakyReluGradF>("LeakyReluGrad");
  add_activation_grad<ClipGradF>("ClipGrad");
  add_activation_grad<SigmoidGradF>("SigmoidGrad");
  add_activation_grad<TanhGradF>("TanhGrad");
  add_activation_grad<HardSigmoidGradF>("HardSigmoidGrad");
  add_activation_grad<HardSwishGradF>("HardSwishGrad");
  add_activation_grad<ErfGradF>("ErfGrad");
  add_activation_grad<GeluGradF>("GeluGrad");
  add_activation_grad<SqrtGradF>("SqrtGrad");
  add_activation_grad<AbsGradF>("AbsGrad");
  add_activation_grad<ReciprocalGradF>("ReciprocalGrad");
  add_activation_grad<SoftplusGradF>("SoftplusGrad");
  add_activation_grad<EluGradF>("EluGrad");
  return true;
}();

}  // namespace

FC_REGISTER_CPU_FN("fc::PowGradBase", pow_grad_base);
FC_REGISTER_CPU_FN("fc::PowGradExponent", pow_grad_exponent);

}  // namespace fc::runtime::cpu
