// Backward-only elementwise ops (domain "fc") used by the gradient rules of the activations in
// relu.cpp / unary_math.cpp and of Pow in binary_math.cpp. Each is one fused pass where the
// gradient written with forward ops would take several (a mask and a multiply, or three
// arithmetic ops), and each follows PyTorch's backward formula (aten/src/ATen/native/*Activation*,
// derivatives.yaml), boundaries included.
//
// Activation gradients: fc.<Op>Grad(dy, s) -> dx, all three of the same shape (f32), where s is the
// forward output y or input x, whichever the formula needs (listed per op below):
//   ReluGrad(dy, y)                       y > 0 ? dy : 0
//   LeakyReluGrad(dy, x) {alpha}          x > 0 ? dy : alpha * dy
//   ClipGrad(dy, x) {min, max}            min <= x <= max ? dy : 0  (inclusive, as torch.clamp)
//   SigmoidGrad(dy, y)                    dy * (1 - y) * y
//   TanhGrad(dy, y)                       dy * (1 - y) * (1 + y)  (= 1 - y^2 without cancellation)
//   HardSigmoidGrad(dy, x) {alpha, beta}  0 < alpha * x + beta < 1 ? alpha * dy : 0
//   HardSwishGrad(dy, x)                  x < -3 ? 0 : x <= 3 ? dy * (x / 3 + 0.5) : dy
//   ErfGrad(dy, x)                        dy * (2 / sqrt(pi) * exp(-x * x)), in float: exp as
//                                         ir/float_math.h's (the JIT's), x^2's rounding error r
//                                         taken in as exp(-x^2 - r) = exp(-x^2) (1 - r)
//   GeluGrad(dy, x) {approximate}         dy * d/dx gelu(x) (PyTorch's formulas for "none" and "tanh")
//   SqrtGrad(dy, y)                       dy / (2 * y)
//   AbsGrad(dy, x)                        dy * sign(x)  (sign(0) = 0)
//   ReciprocalGrad(dy, y)                 -dy * (y * y)
//   SoftplusGrad(dy, x)                   dy * sigmoid(x)
//   EluGrad(dy, x) {alpha, gamma = 1}     x > 0 ? gamma * dy : gamma * alpha * exp(x) * dy  (Elu; Selu)
// Pow gradients, broadcasting dy, a, b to dy's shape (the rule sums them back to a's / b's shape):
//   PowGradBase(dy, a, b)                 b == 0 ? 0 : dy * b * a^(b - 1)          (b: f32 or i64)
//   PowGradExponent(dy, a, b)             a == 0 && b >= 0 ? 0 : dy * a^b * log(a)
// Kernels: runtime/cpu/kernels/elementwise_grad.cpp.
#include <vector>

#include "support/error.h"
#include "ir/op_helpers.h"
#include "ir/shape_util.h"

namespace fc::ir {
namespace {

struct GradDef {
  const char* name;
  double flops;
  std::vector<AttrSpec> attrs;
  const char* doc;
  ScalarFn scalar = {};  // (dy, s) in a fused kernel, bit for bit the CPU kernel's float formula
};

using Ids = std::vector<int>;

// dy where cond (0 or 1) holds, else 0.
int mask(FusedKernel& k, int cond, int dy) { return k.select(cond, dy, k.constant(0.0f)); }

Ids relu_grad_scalar(FusedKernel& k, const Node&, const Ids& in) {
  return {mask(k, k.greater(in[1], k.constant(0.0f)), in[0])};
}
Ids leaky_relu_grad_scalar(FusedKernel& k, const Node& n, const Ids& in) {
  const int scaled = k.mul(in[0], k.constant(n.attr_float("alpha")));
  return {k.select(k.greater(in[1], k.constant(0.0f)), in[0], scaled)};
}
Ids sigmoid_grad_scalar(FusedKernel& k, const Node&, const Ids& in) {
  const int one_minus_y = k.sub(k.constant(1.0f), in[1]);
  return {k.mul(k.mul(in[0], one_minus_y), in[1])};
}
Ids tanh_grad_scalar(FusedKernel& k, const Node&, const Ids& in) {
  const int one = k.constant(1.0f);
  const int one_minus_y = k.sub(one, in[1]);
  const int one_plus_y = k.add(one, in[1]);
  return {k.mul(in[0], k.mul(one_minus_y, one_plus_y))};
}
Ids sqrt_grad_scalar(FusedKernel& k, const Node&, const Ids& in) {
  return {k.div(in[0], k.mul(k.constant(2.0f), in[1]))};
}
Ids abs_grad_scalar(FusedKernel& k, const Node&, const Ids& in) {
  const int zero = k.constant(0.0f);
  const int positive = k.greater(in[1], zero);
  const int negative = k.less(in[1], zero);
  const int negated = k.select(negative, k.unary(ScalarOp::kNeg, in[0]), zero);
  return {k.select(positive, in[0], negated)};
}
Ids erf_grad_scalar(FusedKernel& k, const Node&, const Ids& in) {
  const int x = in[1];
  const int s = k.mul(x, x);
  const int e0 = k.unary(ScalarOp::kExp, k.unary(ScalarOp::kNeg, s));
  const int e = k.fma(k.unary(ScalarOp::kNeg, e0), k.fma(x, x, k.unary(ScalarOp::kNeg, s)), e0);
  return {k.mul(in[0], k.mul(k.constant(1.1283791670955126f), e))};  // 2 / sqrt(pi)
}
Ids reciprocal_grad_scalar(FusedKernel& k, const Node&, const Ids& in) {
  const int neg_dy = k.unary(ScalarOp::kNeg, in[0]);
  return {k.mul(neg_dy, k.mul(in[1], in[1]))};
}

AttrSpec float_attr(const char* name, float v) { return {name, AttrKind::Float, Attribute{v}}; }

std::vector<GradDef> activation_grad_defs() {
  return {
      {"ReluGrad", 1, {}, "gradient of Relu from its output", relu_grad_scalar},
      {"LeakyReluGrad", 2, {float_attr("alpha", 0.01f)}, "gradient of LeakyRelu", leaky_relu_grad_scalar},
      {"ClipGrad", 3, {{"min", AttrKind::Float, std::nullopt}, {"max", AttrKind::Float, std::nullopt}},
       "gradient of Clip (inclusive bounds)"},
      {"SigmoidGrad", 3, {}, "gradient of Sigmoid from its output", sigmoid_grad_scalar},
      {"TanhGrad", 3, {}, "gradient of Tanh from its output", tanh_grad_scalar},
      {"HardSigmoidGrad", 4, {float_attr("alpha", 0.2f), float_attr("beta", 0.5f)}, "gradient of HardSigmoid"},
      {"HardSwishGrad", 4, {}, "gradient of HardSwish"},
      {"ErfGrad", 8, {}, "gradient of Erf", erf_grad_scalar},
      {"GeluGrad", 12, {{"approximate", AttrKind::String, Attribute{std::string("none")}}}, "gradient of Gelu"},
      {"SqrtGrad", 2, {}, "gradient of Sqrt from its output", sqrt_grad_scalar},
      {"AbsGrad", 1, {}, "gradient of Abs", abs_grad_scalar},
      {"ReciprocalGrad", 3, {}, "gradient of Reciprocal from its output", reciprocal_grad_scalar},
      {"SoftplusGrad", 6, {}, "gradient of Softplus"},
      {"EluGrad", 6, {float_attr("alpha", 1.0f), float_attr("gamma", 1.0f)}, "gradient of Elu and Selu"},
  };
}

// dy and the saved tensor: f32, same rank (same shape is the rule's guarantee).
std::vector<TensorType> activation_grad_infer(const InferContext& ctx) {
  const std::string what = ctx.node.describe();
  for (size_t i = 0; i < 2; ++i)
    FC_CHECK(ctx.in(i).dtype == DType::F32, what, ": input ", i, " must be f32, got ", dtype_name(ctx.in(i).dtype));
  FC_CHECK(ctx.in(0).rank() == ctx.in(1).rank(), what, ": dy ", to_string(ctx.in(0)), " and saved tensor ",
           to_string(ctx.in(1)), " differ in rank");
  return {ctx.in(0)};
}

std::vector<TensorType> pow_grad_infer(const InferContext& ctx) {
  const std::string what = ctx.node.describe();
  FC_CHECK(ctx.in(0).dtype == DType::F32 && ctx.in(1).dtype == DType::F32, what, ": dy and base must be f32");
  FC_CHECK(ctx.in(2).dtype == DType::F32 || ctx.in(2).dtype == DType::I64, what, ": exponent must be f32 or i64, got ",
           dtype_name(ctx.in(2).dtype));
  return broadcast_inputs(ctx);
}

[[maybe_unused]] const bool registered = [] {
  for (GradDef& d : activation_grad_defs())
    OpRegistry::global().add(OpSchema{
        .name = d.name,
        .domain = "fc",
        .min_inputs = 2,
        .max_inputs = 2,
        .attrs = std::move(d.attrs),
        .infer = activation_grad_infer,
        .cost = elementwise_cost(d.flops),
        .doc = d.doc,
        .scalar = std::move(d.scalar),
    });
  for (const char* name : {"PowGradBase", "PowGradExponent"})
    OpRegistry::global().add(OpSchema{
        .name = name,
        .domain = "fc",
        .min_inputs = 3,
        .max_inputs = 3,
        .infer = pow_grad_infer,
        .cost = elementwise_cost(8),
        .doc = "gradient of Pow with respect to one input, before summing back to its shape",
    });
  return true;
}();

}  // namespace
}  // namespace fc::ir
