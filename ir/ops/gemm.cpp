// Matrix products.
//   Gemm:   y = alpha * A' * B' + beta * C, A' = transA ? A^T : A ([M, K]), B' = transB ? B^T : B ([K, N]),
//           C (optional) unidirectionally broadcastable to [M, N] -> y: [M, N].
//   MatMul: numpy matmul; a 1-D first operand is a row vector, a 1-D second operand a column vector
//           (their added axis is removed from the result); batch axes broadcast.
//   fc.TransposedMatMul(A, B) {trans_a, trans_b}: MatMul(A', B'), X' = X with its last two axes
//           swapped when trans_x; both operands of rank >= 2. Made after autodiff by
//           passes/transpose_folding.h from MatMuls of Transposes (the kernel reads the operands
//           through strides, no copy); it has no gradient.
// Gradients are products again, so they need no backward kernels:
//   Gemm:   dA' = alpha * dY B'^T, dB' = alpha * A'^T dY (as Gemms whose trans flags undo A', B'),
//           dC = beta * (dY summed over C's broadcast axes).
//   MatMul: dA = dY B^T, dB = A^T dY (MatMul of Transposes of the last two axes), summed over the
//           broadcast batch axes; 1-D operands are unsqueezed to [1, K] / [K, 1] first and squeezed
//           back after. A batched A times a 2-D B (a linear layer on [.., K]) folds the batch into
//           one [K, rows] x [rows, N] product for dB instead of a batch of products then a sum.
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/shape_util.h"

namespace fc::ir {
namespace {

void check_k(const Node& node, const Dim& ka, const Dim& kb) {
  if (ka.is_known() && kb.is_known())
    FC_CHECK(ka.size == kb.size, node.describe(), ": inner dimensions differ (", ka.size, " vs ", kb.size, ")");
}

void check_f32(const InferContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i))
      FC_CHECK(ctx.in(i).dtype == DType::F32, ctx.node.describe(), ": only f32 is supported, input ", i, " is ",
               to_string(ctx.in(i)));
}

std::vector<TensorType> infer_gemm(const InferContext& ctx) {
  const Node& node = ctx.node;
  check_f32(ctx);
  const TensorType& a = ctx.in(0);
  const TensorType& b = ctx.in(1);
  FC_CHECK(a.rank() == 2 && b.rank() == 2, node.describe(), ": A and B must be 2-D, are ", to_string(a), " and ",
           to_string(b));
  const bool ta = node.attr_int("transA") != 0, tb = node.attr_int("transB") != 0;
  const Dim m = a.dims[ta ? 1 : 0], ka = a.dims[ta ? 0 : 1];
  const Dim kb = b.dims[tb ? 1 : 0], n = b.dims[tb ? 0 : 1];
  check_k(node, ka, kb);
  std::vector<Dim> out{m, n};
  if (ctx.has_input(2)) {
    const TensorType& c = ctx.in(2);
    FC_CHECK(c.rank() <= 2, node.describe(), ": C must have rank <= 2, is ", to_string(c));
    // Unidirectional: C may broadcast to [M, N], never the other way.
    std::vector<Dim> bc = broadcast_dims(out, c.dims, node.describe());
    FC_CHECK(bc == out, node.describe(), ": C ", to_string(c), " does not broadcast to [M, N]");
  }
  return {TensorType(DType::F32, out)};
}

OpCost gemm_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  const bool ta = ctx.node.attr_int("transA") != 0;
  const double k = double(ctx.in(0).dims[ta ? 0 : 1].size), mn = double(outs[0].numel());
  OpCost c;
  c.flops = 2 * mn * k + (ctx.has_input(2) ? 2 * mn : 0);
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) c.bytes += 4.0 * double(ctx.in(i).numel());
  c.bytes += 4.0 * mn;
  return c;
}

// numpy matmul of operands with dims a and b.
std::vector<TensorType> matmul_type(const Node& node, std::vector<Dim> a, std::vector<Dim> b) {
  FC_CHECK(!a.empty() && !b.empty(), node.describe(), ": operands must have rank >= 1");
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), Dim::known(1));
  if (b_vec) b.push_back(Dim::known(1));
  check_k(node, a.back(), b[b.size() - 2]);
  std::vector<Dim> batch = broadcast_dims(std::vector<Dim>(a.begin(), a.end() - 2),
                                          std::vector<Dim>(b.begin(), b.end() - 2), node.describe());
  if (!a_vec) batch.push_back(a[a.size() - 2]);
  if (!b_vec) batch.push_back(b.back());
  return {TensorType(DType::F32, batch)};
}

std::vector<TensorType> infer_matmul(const InferContext& ctx) {
  check_f32(ctx);
  return matmul_type(ctx.node, ctx.in(0).dims, ctx.in(1).dims);
}

// The dims of operand i of an fc.TransposedMatMul as the product reads them.
std::vector<Dim> transposed_operand(const InferContext& ctx, size_t i) {
  std::vector<Dim> d = ctx.in(i).dims;
  FC_CHECK(d.size() >= 2, ctx.node.describe(), ": operand ", i, " must have rank >= 2, is ", to_string(ctx.in(i)));
  if (ctx.node.attr_int(i == 0 ? "trans_a" : "trans_b") != 0) std::swap(d[d.size() - 1], d[d.size() - 2]);
  return d;
}

std::vector<TensorType> infer_transposed_matmul(const InferContext& ctx) {
  check_f32(ctx);
  return matmul_type(ctx.node, transposed_operand(ctx, 0), transposed_operand(ctx, 1));
}

OpCost product_cost(const Dim& k, const TensorType& a, const TensorType& b, const TensorType& y) {
  return {2 * double(y.numel()) * double(k.size), 4.0 * double(a.numel() + b.numel() + y.numel())};
}

OpCost matmul_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  return product_cost(ctx.in(0).dims.back(), ctx.in(0), ctx.in(1), outs[0]);
}

OpCost transposed_matmul_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  return product_cost(transposed_operand(ctx, 0).back(), ctx.in(0), ctx.in(1), outs[0]);
}

std::vector<Value*> gemm_gradient(GradBuilder& b) {
  const Node& n = b.node();
  const int64_t ta = n.attr_int("transA") != 0, tb = n.attr_int("transB") != 0;
  const float alpha = n.attr_float("alpha"), beta = n.attr_float("beta");
  Value *a = b.x(0), *w = b.x(1), *dy = b.dy(0);
  auto gemm = [&](Value* p, Value* q, int64_t tp, int64_t tq) {
    return b.emit1("Gemm", {p, q}, {{"alpha", alpha}, {"transA", tp}, {"transB", tq}});
  };
  std::vector<Value*> d(n.inputs.size(), nullptr);
  if (b.needs(0)) d[0] = ta ? gemm(w, dy, tb, 1) : gemm(dy, w, 0, 1 - tb);  // [K, M] or [M, K]
  if (b.needs(1)) d[1] = tb ? gemm(dy, a, 1, ta) : gemm(a, dy, 1 - ta, 0);  // [N, K] or [K, N]
  if (b.needs(2)) {
    Value* dc = b.reduce_to_shape_of(dy, b.x(2));
    d[2] = beta == 1.0f ? dc : b.emit1("Mul", {dc, b.scalar(beta)});
  }
  return d;
}

// Swaps the last two axes.
Value* transpose_last2(GradBuilder& b, Value* v) {
  const int64_t r = static_cast<int64_t>(v->type.rank());
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < r; ++i) perm.push_back(i);
  std::swap(perm[r - 1], perm[r - 2]);
  return b.emit1("Transpose", {v}, {{"perm", perm}});
}

Value* unsqueeze(GradBuilder& b, Value* v, int64_t axis) {
  return b.emit1("Unsqueeze", {v}, {{"axes", std::vector<int64_t>{axis}}});
}

std::vector<Value*> matmul_gradient(GradBuilder& b) {
  const bool a_vec = b.x(0)->type.rank() == 1, b_vec = b.x(1)->type.rank() == 1;
  // Promoted operands a: [.., M, K], w: [.., K, N] and dy: [batch.., M, N].
  Value *a = b.x(0), *w = b.x(1), *dy = b.dy(0);
  if (b_vec) w = unsqueeze(b, w, 1), dy = unsqueeze(b, dy, -1);
  if (a_vec) a = unsqueeze(b, a, 0), dy = unsqueeze(b, dy, -2);
  std::vector<Value*> d(2, nullptr);
  if (b.needs(0)) {
    d[0] = b.reduce_to_shape_of(b.emit1("MatMul", {dy, transpose_last2(b, w)}), a);
    if (a_vec) d[0] = b.emit1("Squeeze", {d[0]}, {{"axes", std::vector<int64_t>{0}}});
  }
  if (b.needs(1)) {
    const std::vector<Dim>& wd = w->type.dims;
    if (w->type.rank() == 2 && a->type.rank() > 2 && wd[0].is_known() && wd[1].is_known()) {
      // w is shared by every row of a: dw = a_rows^T dy_rows with the batch folded into the rows.
      Value* a_rows = b.emit1("Reshape", {a}, {{"shape", std::vector<int64_t>{-1, wd[0].size}}});
      Value* dy_rows = b.emit1("Reshape", {dy}, {{"shape", std::vector<int64_t>{-1, wd[1].size}}});
      d[1] = b.emit1("MatMul", {transpose_last2(b, a_rows), dy_rows});
    } else {
      d[1] = b.reduce_to_shape_of(b.emit1("MatMul", {transpose_last2(b, a), dy}), w);
    }
    if (b_vec) d[1] = b.emit1("Squeeze", {d[1]}, {{"axes", std::vector<int64_t>{1}}});
  }
  return d;
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "Gemm",
    .onnx_versions = {1, 6, 7, 9, 11, 13},
    .min_inputs = 2,
    .max_inputs = 3,
    .attrs = {{"alpha", AttrKind::Float, Attribute(1.0f)},
              {"beta", AttrKind::Float, Attribute(1.0f)},
              {"transA", AttrKind::Int, Attribute(int64_t{0})},
              {"transB", AttrKind::Int, Attribute(int64_t{0})}},
    .infer = infer_gemm,
    .cost = gemm_cost,
    .doc = "alpha * A' * B' + beta * C (oneDNN matmul on CPU)",
    .gradient = gemm_gradient,
    .kind = OpKind::MatrixProduct,
});

FC_REGISTER_OP(OpSchema{
    .name = "MatMul",
    .onnx_versions = {1, 9, 13},
    .min_inputs = 2,
    .max_inputs = 2,
    .infer = infer_matmul,
    .cost = matmul_cost,
    .doc = "numpy matmul with batch broadcasting (oneDNN matmul on CPU)",
    .gradient = matmul_gradient,
    .kind = OpKind::MatrixProduct,
});

FC_REGISTER_OP(OpSchema{
    .name = "TransposedMatMul",
    .domain = "fc",
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = {{"trans_a", AttrKind::Int, Attribute(int64_t{0})}, {"trans_b", AttrKind::Int, Attribute(int64_t{0})}},
    .infer = infer_transposed_matmul,
    .cost = transposed_matmul_cost,
    .doc = "MatMul of operands read with their last two axes swapped (trans_a, trans_b), no copy",
    .kind = OpKind::MatrixProduct,
});

}  // namespace fc::ir
