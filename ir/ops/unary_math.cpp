// Unary elementwise math and activation ops (opset-17 semantics), as one table: each entry is an
// op's schema (attributes with ONNX defaults, accepted element types, cost per element). Output
// type = input type. Kernels: runtime/cpu/kernels/unary_math.cpp. Relu lives in relu.cpp.
//
// Clip holds its bounds as optional float attributes `min`/`max` (absent = unbounded); the frontend
// folds the opset-11+ bound inputs into them (docs/ir_conventions.md).
//
// Gradient rules follow PyTorch's formulas: a one-pass fc.<Op>Grad(dy, x or y) kernel
// (ir/ops/elementwise_grads.cpp) where the formula needs more than one forward op, otherwise the
// forward ops themselves (Exp: dy * y, Log: dy / x, Neg: -dy). Floor, Ceil and Not have none.
// Gelu (opset 20, what PyTorch 2.x exports nn.GELU as) is PyTorch's F.gelu in both approximations.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/dtype.h"
#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"

namespace fc::ir {
namespace {

struct UnaryDef {
  const char* name;
  std::vector<int> onnx_versions;  // the op's version table (OpSchema::onnx_versions)
  double flops;             // per element, for the cost model (transcendentals count ~ a few)
  std::vector<AttrSpec> attrs;
  std::vector<DType> types;  // accepted input (= output) element types
  const char* doc;
  GradFn grad = {};          // empty: not differentiable
  ScalarFn scalar = {};      // empty: never fused (most transcendentals: their kernels round from double)
};

// For inference every float type (f16 and bf16 are computed in double and rounded once); training
// and fusion take f32 only (their own checks).
const std::vector<DType> kFloats{DType::F32, DType::F64, DType::F16, DType::BF16};
const std::vector<DType> kSigned{DType::F32, DType::F64, DType::F16, DType::BF16,
                                 DType::I64, DType::I32, DType::I16, DType::I8};
// Floats and every integer type (Clip from opset 12, Abs).
const std::vector<DType> kNumeric{DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64, DType::I32, DType::I16,
                                  DType::I8,  DType::U64, DType::U32, DType::U16,  DType::U8};

// In a fused kernel: one scalar op, exactly what the CPU kernel computes in float.
ScalarFn scalar_op(ScalarOp op) {
  return [op](FusedKernel& k, const Node&, const std::vector<int>& in) -> std::vector<int> {
    return {k.unary(op, in[0])};
  };
}

AttrSpec float_attr(const char* name, float v) { return {name, AttrKind::Float, Attribute{v}}; }

enum class Saved { X, Y };  // which forward tensor a fused gradient reads

// Whether attribute `a` of n is set or has a default in n's schema.
bool has_value(const Node& n, const std::string& a) {
  if (n.has_attr(a)) return true;
  const OpSchema* s = OpRegistry::global().find(n.op, n.domain);
  if (!s) return false;
  for (const AttrSpec& spec : s->attrs)
    if (spec.name == a) return spec.default_value.has_value();
  return false;
}

// dx = fc.<grad_op>(dy, x or y), carrying the forward float attributes `copy` (defaults resolved by
// the forward schema; attributes absent without a default, Clip's bounds, stay absent).
GradFn fused_grad(const char* grad_op, Saved saved, std::vector<const char*> copy = {}) {
  return [=](GradBuilder& b) -> std::vector<Value*> {
    std::map<std::string, Attribute> attrs;
    for (const char* a : copy)
      if (has_value(b.node(), a)) attrs[a] = b.node().attr_float(a);
    return {b.emit1(grad_op, {b.dy(0), saved == Saved::X ? b.x(0) : b.y(0)}, std::move(attrs), "fc")};
  };
}

// dx = op(dy, saved) with a forward op (omitted saved: op(dy)).
GradFn forward_op_grad(const char* op, std::optional<Saved> saved) {
  return [=](GradBuilder& b) -> std::vector<Value*> {
    if (!saved) return {b.emit1(op, {b.dy(0)})};
    return {b.emit1(op, {b.dy(0), *saved == Saved::X ? b.x(0) : b.y(0)})};
  };
}

// dx = fc.GeluGrad(dy, x) {approximate}.
std::vector<Value*> gelu_grad(GradBuilder& b) {
  return {b.emit1("GeluGrad", {b.dy(0), b.x(0)}, {{"approximate", b.node().attr_string("approximate")}}, "fc")};
}

std::vector<UnaryDef> unary_defs() {
  return {
      {"LeakyRelu", {1, 6,  16}, 2, {float_attr("alpha", 0.01f)}, kFloats, "x >= 0 ? x : alpha * x",
       fused_grad("LeakyReluGrad", Saved::X, {"alpha"}),
       [](FusedKernel& k, const Node& n, const std::vector<int>& in) -> std::vector<int> {
         return {k.leaky_relu(in[0], n.attr_float("alpha"))};
       }},
      {"Clip", {1, 6,  11, 12, 13}, 2, {{"min", AttrKind::Float, std::nullopt}, {"max", AttrKind::Float, std::nullopt}}, kNumeric,
       "min(max(x, min), max); absent bounds are unbounded", fused_grad("ClipGrad", Saved::X, {"min", "max"})},
      {"Sigmoid", {1, 6,  13}, 4, {}, kFloats, "1 / (1 + exp(-x))", fused_grad("SigmoidGrad", Saved::Y)},
      {"Tanh", {1, 6,  13}, 6, {}, kFloats, "tanh(x)", fused_grad("TanhGrad", Saved::Y)},
      {"HardSigmoid", {1, 6}, 3, {float_attr("alpha", 0.2f), float_attr("beta", 0.5f)}, kFloats,
       "max(0, min(1, alpha * x + beta))", fused_grad("HardSigmoidGrad", Saved::X, {"alpha", "beta"})},
      {"HardSwish", {14}, 4, {}, kFloats, "x * max(0, min(1, x / 6 + 1 / 2))", fused_grad("HardSwishGrad", Saved::X)},
      {"Erf", {9, 13}, 8, {}, kFloats, "the Gauss error function", fused_grad("ErfGrad", Saved::X),
       scalar_op(ScalarOp::kErf)},
      {"Gelu", {20}, 10, {{"approximate", AttrKind::String, Attribute{std::string("none")}}}, kFloats,
       "x * Phi(x) (approximate = \"none\": erf; \"tanh\": PyTorch's tanh approximation)", gelu_grad},
      {"Sqrt", {1, 6,  13}, 1, {}, kFloats, "square root", fused_grad("SqrtGrad", Saved::Y), scalar_op(ScalarOp::kSqrt)},
      {"Exp", {1, 6,  13}, 4, {}, kFloats, "e^x", forward_op_grad("Mul", Saved::Y)},
      {"Log", {1, 6,  13}, 4, {}, kFloats, "natural logarithm", forward_op_grad("Div", Saved::X)},
      {"Neg", {1, 6,  13}, 1, {}, kSigned, "-x", forward_op_grad("Neg", std::nullopt), scalar_op(ScalarOp::kNeg)},
      {"Abs", {1, 6,  13}, 1, {}, kNumeric, "|x|", fused_grad("AbsGrad", Saved::X), scalar_op(ScalarOp::kAbs)},
      {"Reciprocal", {1, 6,  13}, 1, {}, kFloats, "1 / x", fused_grad("ReciprocalGrad", Saved::Y),
       [](FusedKernel& k, const Node&, const std::vector<int>& in) -> std::vector<int> {
         return {k.div(k.constant(1.0f), in[0])};
       }},
      {"Floor", {1, 6,  13}, 1, {}, kFloats, "round toward -inf", {}, scalar_op(ScalarOp::kFloor)},
      {"Ceil", {1, 6,  13}, 1, {}, kFloats, "round toward +inf", {}, scalar_op(ScalarOp::kCeil)},
      {"Softplus", {1}, 5, {}, kFloats, "log(1 + exp(x)), computed without overflow", fused_grad("SoftplusGrad", Saved::X)},
      {"Elu", {1, 6}, 5, {float_attr("alpha", 1.0f)}, kFloats, "x > 0 ? x : alpha * (exp(x) - 1)",
       fused_grad("EluGrad", Saved::X, {"alpha"})},
      {"Selu", {1, 6}, 6, {float_attr("alpha", 1.67326319217681884765625f), float_attr("gamma", 1.05070102214813232421875f)},
       kFloats, "gamma * (x > 0 ? x : alpha * (exp(x) - 1))", fused_grad("EluGrad", Saved::X, {"alpha", "gamma"})},
      {"Not", {1}, 1, {}, {DType::Bool}, "logical not"},
  };
}

ShapeFn unary_infer(std::vector<DType> types) {
  return [types](const InferContext& ctx) -> std::vector<TensorType> {
    const TensorType& x = ctx.in(0);
    bool ok = false;
    for (DType t : types) ok = ok || x.dtype == t;
    if (!ok) {
      std::string names;
      for (DType t : types) names += (names.empty() ? "" : " or ") + std::string(dtype_name(t));
      fail(ctx.node.describe(), ": input must be ", names, ", got ", dtype_name(x.dtype));
    }
    return {x};
  };
}

[[maybe_unused]] const bool registered = [] {
  for (UnaryDef& d : unary_defs())
    OpRegistry::global().add(OpSchema{
        .name = d.name,
        .onnx_versions = d.onnx_versions,
        .attrs = std::move(d.attrs),
        .infer = unary_infer(d.types),
        .cost = elementwise_cost(d.flops),
        .doc = d.doc,
        .gradient = std::move(d.grad),
        .scalar = std::move(d.scalar),
    });
  return true;
}();

}  // namespace
}  // namespace fc::ir
