// Unary elementwise math and activation ops (opset-17 semantics), as one table: each entry is an
// op's schema (attributes with ONNX defaults, accepted element types, cost per element). Output
// type = input type. Kernels: runtime/cpu/kernels/unary_math.cpp. Relu lives in relu.cpp.
//
// Clip holds its bounds as optional float attributes `min`/`max` (absent = unbounded); the frontend
// folds the opset-11+ bound inputs into them (docs/ir_conventions.md).
#include <vector>

#include "ir/dtype.h"
#include "ir/error.h"
#include "ir/op_helpers.h"

namespace fc::ir {
namespace {

struct UnaryDef {
  const char* name;
  int since_opset;
  double flops;             // per element, for the cost model (transcendentals count ~ a few)
  std::vector<AttrSpec> attrs;
  std::vector<DType> types;  // accepted input (= output) element types
  const char* doc;
};

const std::vector<DType> kF32{DType::F32};
const std::vector<DType> kSigned{DType::F32, DType::I64};

AttrSpec float_attr(const char* name, float v) { return {name, AttrKind::Float, Attribute{v}}; }

std::vector<UnaryDef> unary_defs() {
  return {
      {"LeakyRelu", 6, 2, {float_attr("alpha", 0.01f)}, kF32, "x >= 0 ? x : alpha * x"},
      {"Clip", 6, 2, {{"min", AttrKind::Float, std::nullopt}, {"max", AttrKind::Float, std::nullopt}}, kF32,
       "min(max(x, min), max); absent bounds are unbounded"},
      {"Sigmoid", 6, 4, {}, kF32, "1 / (1 + exp(-x))"},
      {"Tanh", 6, 6, {}, kF32, "tanh(x)"},
      {"HardSigmoid", 6, 3, {float_attr("alpha", 0.2f), float_attr("beta", 0.5f)}, kF32,
       "max(0, min(1, alpha * x + beta))"},
      {"HardSwish", 14, 4, {}, kF32, "x * max(0, min(1, x / 6 + 1 / 2))"},
      {"Erf", 9, 8, {}, kF32, "the Gauss error function"},
      {"Sqrt", 6, 1, {}, kF32, "square root"},
      {"Exp", 6, 4, {}, kF32, "e^x"},
      {"Log", 6, 4, {}, kF32, "natural logarithm"},
      {"Neg", 6, 1, {}, kSigned, "-x"},
      {"Abs", 6, 1, {}, kSigned, "|x|"},
      {"Reciprocal", 6, 1, {}, kF32, "1 / x"},
      {"Floor", 6, 1, {}, kF32, "round toward -inf"},
      {"Ceil", 6, 1, {}, kF32, "round toward +inf"},
      {"Softplus", 1, 5, {}, kF32, "log(1 + exp(x)), computed without overflow"},
      {"Elu", 6, 5, {float_attr("alpha", 1.0f)}, kF32, "x > 0 ? x : alpha * (exp(x) - 1)"},
      {"Selu", 6, 6, {float_attr("alpha", 1.67326319217681884765625f), float_attr("gamma", 1.05070102214813232421875f)},
       kF32, "gamma * (x > 0 ? x : alpha * (exp(x) - 1))"},
      {"Not", 1, 1, {}, {DType::Bool}, "logical not"},
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
        .since_opset = d.since_opset,
        .attrs = std::move(d.attrs),
        .infer = unary_infer(d.types),
        .cost = elementwise_cost(d.flops),
        .doc = d.doc,
    });
  return true;
}();

}  // namespace
}  // namespace fc::ir
