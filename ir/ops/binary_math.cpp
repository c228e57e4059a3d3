// Broadcasting elementwise ops (numpy multidirectional broadcasting, opset-17 semantics), as one
// table: arithmetic (Add, Sub, Mul, Div, Pow), comparisons (Equal, Less, Greater -> bool),
// variadic Max/Min/Sum/Mean, and Where(cond, x, y). Kernels: runtime/cpu/kernels/binary_math.cpp.
//
// Integer Div truncates toward zero (as C and ONNX do); Pow's exponent may be f32 or i64.
#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/op_helpers.h"
#include "ir/shape_util.h"

namespace fc::ir {
namespace {

enum class Result { SameAsInput, Bool };

struct BroadcastDef {
  const char* name;
  int since_opset;
  int min_inputs, max_inputs;
  double flops;               // per output element and per input beyond the first
  std::vector<DType> types;   // accepted element types of the (data) inputs
  Result result;
  const char* doc;
};

constexpr int kVariadic = 1 << 20;

std::vector<BroadcastDef> broadcast_defs() {
  const std::vector<DType> arith{DType::F32, DType::F64, DType::I64};
  const std::vector<DType> equal{DType::F32, DType::F64, DType::I64, DType::Bool};
  return {
      {"Add", 7, 2, 2, 1, arith, Result::SameAsInput, "a + b"},
      {"Sub", 7, 2, 2, 1, arith, Result::SameAsInput, "a - b"},
      {"Mul", 7, 2, 2, 1, arith, Result::SameAsInput, "a * b"},
      {"Div", 7, 2, 2, 1, arith, Result::SameAsInput, "a / b (integers truncate toward zero)"},
      {"Pow", 7, 2, 2, 4, {DType::F32}, Result::SameAsInput, "a ^ b (b: f32 or i64)"},
      {"Equal", 7, 2, 2, 1, equal, Result::Bool, "a == b"},
      {"Less", 7, 2, 2, 1, arith, Result::Bool, "a < b"},
      {"Greater", 7, 2, 2, 1, arith, Result::Bool, "a > b"},
      {"Max", 8, 1, kVariadic, 1, arith, Result::SameAsInput, "elementwise maximum of all inputs (NaN wins)"},
      {"Min", 8, 1, kVariadic, 1, arith, Result::SameAsInput, "elementwise minimum of all inputs (NaN wins)"},
      {"Sum", 8, 1, kVariadic, 1, arith, Result::SameAsInput, "elementwise sum of all inputs"},
      {"Mean", 8, 1, kVariadic, 1, {DType::F32}, Result::SameAsInput, "elementwise mean of all inputs"},
  };
}

std::string type_list(const std::vector<DType>& types) {
  std::string s;
  for (DType t : types) s += (s.empty() ? "" : ", ") + std::string(dtype_name(t));
  return s;
}

void check_type(const InferContext& ctx, size_t i, const std::vector<DType>& types) {
  DType t = ctx.in(i).dtype;
  for (DType ok : types)
    if (t == ok) return;
  fail(ctx.node.describe(), ": input ", i, " is ", dtype_name(t), ", expected one of ", type_list(types));
}

ShapeFn broadcast_infer(const BroadcastDef& d) {
  const bool is_pow = std::string(d.name) == "Pow";
  return [d, is_pow](const InferContext& ctx) -> std::vector<TensorType> {
    check_type(ctx, 0, d.types);
    for (size_t i = 1; i < ctx.num_inputs(); ++i) {
      if (is_pow) {
        check_type(ctx, i, {DType::F32, DType::I64});
      } else {
        FC_CHECK(ctx.in(i).dtype == ctx.in(0).dtype, ctx.node.describe(), ": input ", i, " is ",
                 dtype_name(ctx.in(i).dtype), " but input 0 is ", dtype_name(ctx.in(0).dtype));
      }
    }
    TensorType out = broadcast_inputs(ctx)[0];
    if (d.result == Result::Bool) out.dtype = DType::Bool;
    return {out};
  };
}

// A variadic op with k inputs does k-1 operations per output element (Mean one more).
CostFn broadcast_cost(double flops) {
  return [flops](const InferContext& ctx, const std::vector<TensorType>& outs) {
    double per = flops * double(std::max<size_t>(1, ctx.num_inputs() - 1));
    return elementwise_cost(per)(ctx, outs);
  };
}

[[maybe_unused]] const bool registered = [] {
  for (const BroadcastDef& d : broadcast_defs())
    OpRegistry::global().add(OpSchema{
        .name = d.name,
        .since_opset = d.since_opset,
        .min_inputs = d.min_inputs,
        .max_inputs = d.max_inputs,
        .infer = broadcast_infer(d),
        .cost = broadcast_cost(d.flops),
        .doc = d.doc,
    });
  return true;
}();

FC_REGISTER_OP(OpSchema{
    .name = "Where",
    .since_opset = 9,
    .min_inputs = 3,
    .max_inputs = 3,
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      FC_CHECK(ctx.in(0).dtype == DType::Bool, ctx.node.describe(), ": condition must be bool, got ",
               dtype_name(ctx.in(0).dtype));
      FC_CHECK(ctx.in(1).dtype == ctx.in(2).dtype, ctx.node.describe(), ": x is ", dtype_name(ctx.in(1).dtype),
               " but y is ", dtype_name(ctx.in(2).dtype));
      check_type(ctx, 1, {DType::F32, DType::F64, DType::I64, DType::I32, DType::Bool});
      std::vector<Dim> dims = broadcast_dims(ctx.in(0).dims, ctx.in(1).dims, ctx.node.describe());
      dims = broadcast_dims(dims, ctx.in(2).dims, ctx.node.describe());
      return {TensorType(ctx.in(1).dtype, dims)};
    },
    .cost = elementwise_cost(1),
    .doc = "cond ? x : y, broadcasting all three",
});

}  // namespace
}  // namespace fc::ir
