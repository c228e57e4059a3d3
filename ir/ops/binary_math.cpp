// Broadcasting elementwise ops (numpy multidirectional broadcasting, opset-17 semantics), as one
// table: arithmetic (Add, Sub, Mul, Div, Pow), comparisons (Equal, Less, Greater -> bool),
// variadic Max/Min/Sum/Mean, and Where(cond, x, y). Kernels: runtime/cpu/kernels/binary_math.cpp.
//
// Every numeric element type (integers of 8-64 bits, signed or not, f16/bf16/f32/f64); integer Add,
// Sub and Mul wrap (as numpy), integer Div truncates toward zero (as C and ONNX do). Pow's exponent
// may be of any numeric type; the result has the base's.
//
// Gradient rules (float inputs) are forward ops plus fc.SumToShapeOf, which sums a gradient of the
// broadcast shape back to each input's shape; Pow uses the fused fc.PowGradBase/PowGradExponent
// (ir/ops/elementwise_grads.cpp). Max/Min send the whole gradient of each element to the FIRST input
// that attains the extremum (PyTorch's maximum/minimum split ties evenly; a tie is measure-zero in
// training, and one owner keeps the rule to a mask per input). Equal/Less/Greater have none.
#include <string>
#include <vector>

#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/shape_util.h"

namespace fc::ir {
namespace {

enum class Result { SameAsInput, Bool };

struct BroadcastDef {
  const char* name;
  std::vector<int> onnx_versions;  // the op's version table (OpSchema::onnx_versions)
  int min_inputs, max_inputs;
  double flops;               // per output element and per input beyond the first
  std::vector<DType> types;   // accepted element types of the (data) inputs
  Result result;
  const char* doc;
  GradFn grad = {};           // empty: not differentiable
  ScalarOp scalar = ScalarOp::kConst;  // the op in a fused kernel, folded over the inputs (kConst: none)
  std::vector<AttrSpec> attrs = {};
};

constexpr int kVariadic = 1 << 20;

// A scalar constant of the (float) element type t.
Value* scalar_of(GradBuilder& b, DType t, double v) {
  if (t == DType::F64) return b.constant(Tensor::scalar<double>(v));
  FC_ASSERT(t == DType::F32);
  return b.constant(Tensor::scalar<float>(static_cast<float>(v)));
}

std::vector<Value*> add_grad(GradBuilder& b) {
  std::vector<Value*> d(2);
  for (size_t i = 0; i < 2; ++i)
    if (b.needs(i)) d[i] = b.reduce_to_shape_of(b.dy(0), b.x(i));
  return d;
}

std::vector<Value*> sub_grad(GradBuilder& b) {
  std::vector<Value*> d(2);
  if (b.needs(0)) d[0] = b.reduce_to_shape_of(b.dy(0), b.x(0));
  if (b.needs(1)) d[1] = b.emit1("Neg", {b.reduce_to_shape_of(b.dy(0), b.x(1))});  // negate the smaller tensor
  return d;
}

std::vector<Value*> mul_grad(GradBuilder& b) {
  std::vector<Value*> d(2);
  if (b.needs(0)) d[0] = b.reduce_to_shape_of(b.emit1("Mul", {b.dy(0), b.x(1)}), b.x(0));
  if (b.needs(1)) d[1] = b.reduce_to_shape_of(b.emit1("Mul", {b.dy(0), b.x(0)}), b.x(1));
  return d;
}

// da = dy / b; db = -dy * a / b^2 = -(dy / b) * y, sharing dy / b.
std::vector<Value*> div_grad(GradBuilder& b) {
  std::vector<Value*> d(2);
  Value* dy_over_b = b.emit1("Div", {b.dy(0), b.x(1)});
  if (b.needs(0)) d[0] = b.reduce_to_shape_of(dy_over_b, b.x(0));
  if (b.needs(1))
    d[1] = b.emit1("Neg", {b.reduce_to_shape_of(b.emit1("Mul", {dy_over_b, b.y(0)}), b.x(1))});
  return d;
}

// The exponent gets a gradient only when it is a float (autodiff never asks for an i64 one).
std::vector<Value*> pow_grad(GradBuilder& b) {
  std::vector<Value*> d(2);
  if (b.needs(0))
    d[0] = b.reduce_to_shape_of(b.emit1("PowGradBase", {b.dy(0), b.x(0), b.x(1)}, {}, "fc"), b.x(0));
  if (b.needs(1))
    d[1] = b.reduce_to_shape_of(b.emit1("PowGradExponent", {b.dy(0), b.x(0), b.x(1)}, {}, "fc"), b.x(1));
  return d;
}

// Max/Min: input i receives dy where it equals y and no earlier input does. `rest` is the part of
// dy not yet claimed by an earlier input.
std::vector<Value*> select_grad(GradBuilder& b) {
  const size_t k = b.node().inputs.size();
  std::vector<Value*> d(k);
  if (k == 1) {
    d[0] = b.reduce_to_shape_of(b.dy(0), b.x(0));
    return d;
  }
  size_t last = 0;
  for (size_t i = 0; i < k; ++i)
    if (b.needs(i)) last = i;
  Value* zero = scalar_of(b, b.dy(0)->type.dtype, 0.0);
  Value* rest = b.dy(0);
  for (size_t i = 0; i <= last; ++i) {
    Value* owns = b.emit1("Equal", {b.x(i), b.y(0)});
    if (b.needs(i)) d[i] = b.reduce_to_shape_of(b.emit1("Where", {owns, rest, zero}), b.x(i));
    if (i < last) rest = b.emit1("Where", {owns, zero, rest});
  }
  return d;
}

std::vector<Value*> sum_grad(GradBuilder& b) {
  std::vector<Value*> d(b.node().inputs.size());
  for (size_t i = 0; i < d.size(); ++i)
    if (b.needs(i)) d[i] = b.reduce_to_shape_of(b.dy(0), b.x(i));
  return d;
}

// dy / k (divided, not multiplied by 1/k: one rounding), shared by every input.
std::vector<Value*> mean_grad(GradBuilder& b) {
  std::vector<Value*> d(b.node().inputs.size());
  Value* share = b.emit1("Div", {b.dy(0), scalar_of(b, b.dy(0)->type.dtype, double(d.size()))});
  for (size_t i = 0; i < d.size(); ++i)
    if (b.needs(i)) d[i] = b.reduce_to_shape_of(share, b.x(i));
  return d;
}

// Where(cond, x, y): dx = cond ? dy : 0, dy_ = cond ? 0 : dy, each summed back to its shape.
std::vector<Value*> where_grad(GradBuilder& b) {
  std::vector<Value*> d(3);
  Value* zero = scalar_of(b, b.dy(0)->type.dtype, 0.0);
  if (b.needs(1)) d[1] = b.reduce_to_shape_of(b.emit1("Where", {b.x(0), b.dy(0), zero}), b.x(1));
  if (b.needs(2)) d[2] = b.reduce_to_shape_of(b.emit1("Where", {b.x(0), zero, b.dy(0)}), b.x(2));
  return d;
}

std::vector<BroadcastDef> broadcast_defs() {
  std::vector<DType> arith;  // every numeric type computed with (not bool, float8, int4)
  for (DType t : kAllDTypes)
    if (t != DType::Bool && !is_storage_only_dtype(t)) arith.push_back(t);
  std::vector<DType> equal = arith;
  equal.push_back(DType::Bool);
  const std::vector<DType> floats{DType::F32, DType::F64, DType::F16, DType::BF16};
  return {
      {"Add", {1, 6,  7, 13, 14}, 2, 2, 1, arith, Result::SameAsInput, "a + b", add_grad, ScalarOp::kAdd},
      {"Sub", {1, 6,  7, 13, 14}, 2, 2, 1, arith, Result::SameAsInput, "a - b", sub_grad, ScalarOp::kSub},
      {"Mul", {1, 6,  7, 13, 14}, 2, 2, 1, arith, Result::SameAsInput, "a * b", mul_grad, ScalarOp::kMul},
      {"Div", {1, 6,  7, 13, 14}, 2, 2, 1, arith, Result::SameAsInput, "a / b (integers truncate toward zero)", div_grad,
       ScalarOp::kDiv},
      {"Pow", {1, 7,  12, 13, 15}, 2, 2, 4, arith, Result::SameAsInput, "a ^ b (b: any numeric type; the result has a's)", pow_grad},
      {"Equal", {1, 7,  11, 13, 19}, 2, 2, 1, equal, Result::Bool, "a == b"},
      {"Less", {1, 7,  9, 13}, 2, 2, 1, arith, Result::Bool, "a < b"},
      {"Greater", {1, 7,  9, 13}, 2, 2, 1, arith, Result::Bool, "a > b"},
      {"Max", {1, 6,  8, 12, 13}, 1, kVariadic, 1, arith, Result::SameAsInput, "elementwise maximum of all inputs (NaN wins)",
       select_grad, ScalarOp::kMax},
      {"Min", {1, 6,  8, 12, 13}, 1, kVariadic, 1, arith, Result::SameAsInput, "elementwise minimum of all inputs (NaN wins)",
       select_grad, ScalarOp::kMin},
      {"Sum", {1, 6,  8, 13}, 1, kVariadic, 1, arith, Result::SameAsInput, "elementwise sum of all inputs", sum_grad,
       ScalarOp::kAdd},
      {"Mean", {1, 6,  8, 13}, 1, kVariadic, 1, floats, Result::SameAsInput, "elementwise mean of all inputs", mean_grad,
       ScalarOp::kAdd},
      {"Mod", {10, 13}, 2, 2, 2, arith, Result::SameAsInput,
       "remainder of a / b: with fmod = 0 (integers only) the sign of b, as Python's %; with fmod = 1 the sign of a, "
       "as C's fmod",
       {}, ScalarOp::kConst, {{"fmod", AttrKind::Int, Attribute{int64_t{0}}}}},
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
        check_type(ctx, i, d.types);
      } else {
        FC_CHECK(ctx.in(i).dtype == ctx.in(0).dtype, ctx.node.describe(), ": input ", i, " is ",
                 dtype_name(ctx.in(i).dtype), " but input 0 is ", dtype_name(ctx.in(0).dtype));
      }
    }
    if (std::string(d.name) == "Mod")
      FC_CHECK(ctx.node.attr_int("fmod") != 0 || !is_float_dtype(ctx.in(0).dtype), ctx.node.describe(),
               ": fmod = 0 (the divisor's sign) is for integers; floating-point Mod needs fmod = 1");
    TensorType out = broadcast_inputs(ctx)[0];
    if (d.result == Result::Bool) out.dtype = DType::Bool;
    return {out};
  };
}

// In a fused kernel: a left fold of the inputs, as the CPU kernel (binary_math.cpp) folds them;
// Mean then divides by the input count (one rounding, as the kernel).
ScalarFn broadcast_scalar(const BroadcastDef& d) {
  if (d.scalar == ScalarOp::kConst) return {};
  const bool is_mean = std::string(d.name) == "Mean";
  return [op = d.scalar, is_mean](FusedKernel& k, const Node& n, const std::vector<int>& in) -> std::vector<int> {
    int acc = in[0];
    for (size_t i = 1; i < in.size(); ++i) acc = k.binary(op, acc, in[i]);
    if (is_mean) acc = k.div(acc, k.constant(static_cast<float>(n.inputs.size())));
    return {acc};
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
        .onnx_versions = d.onnx_versions,
        .min_inputs = d.min_inputs,
        .max_inputs = d.max_inputs,
        .attrs = d.attrs,
        .infer = broadcast_infer(d),
        .cost = broadcast_cost(d.flops),
        .doc = d.doc,
        .gradient = d.grad,
        .scalar = broadcast_scalar(d),
    });
  return true;
}();

FC_REGISTER_OP(OpSchema{
    .name = "Where",
    .onnx_versions = {9, 16},
    .min_inputs = 3,
    .max_inputs = 3,
    .infer = [](const InferContext& ctx) -> std::vector<TensorType> {
      FC_CHECK(ctx.in(0).dtype == DType::Bool, ctx.node.describe(), ": condition must be bool, got ",
               dtype_name(ctx.in(0).dtype));
      FC_CHECK(ctx.in(1).dtype == ctx.in(2).dtype, ctx.node.describe(), ": x is ", dtype_name(ctx.in(1).dtype),
               " but y is ", dtype_name(ctx.in(2).dtype));
      check_type(ctx, 1, std::vector<DType>(std::begin(kAllDTypes), std::end(kAllDTypes)));
      std::vector<Dim> dims = broadcast_dims(ctx.in(0).dims, ctx.in(1).dims, ctx.node.describe());
      dims = broadcast_dims(dims, ctx.in(2).dims, ctx.node.describe());
      return {TensorType(ctx.in(1).dtype, dims)};
    },
    .cost = elementwise_cost(1),
    .doc = "cond ? x : y, broadcasting all three",
    .gradient = where_grad,
});

}  // namespace
}  // namespace fc::ir
