// Matrix products.
//   Gemm:   y = alpha * A' * B' + beta * C, A' = transA ? A^T : A ([M, K]), B' = transB ? B^T : B ([K, N]),
//           C (optional) unidirectionally broadcastable to [M, N] -> y: [M, N].
//   MatMul: numpy matmul; a 1-D first operand is a row vector, a 1-D second operand a column vector
//           (their added axis is removed from the result); batch axes broadcast.
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

std::vector<TensorType> infer_matmul(const InferContext& ctx) {
  const Node& node = ctx.node;
  check_f32(ctx);
  std::vector<Dim> a = ctx.in(0).dims, b = ctx.in(1).dims;
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

OpCost matmul_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  const double k = double(ctx.in(0).dims.back().size);
  return {2 * double(outs[0].numel()) * k,
          4.0 * double(ctx.in(0).numel() + ctx.in(1).numel() + outs[0].numel())};
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "Gemm",
    .since_opset = 1,
    .min_inputs = 2,
    .max_inputs = 3,
    .attrs = {{"alpha", AttrKind::Float, Attribute(1.0f)},
              {"beta", AttrKind::Float, Attribute(1.0f)},
              {"transA", AttrKind::Int, Attribute(int64_t{0})},
              {"transB", AttrKind::Int, Attribute(int64_t{0})}},
    .infer = infer_gemm,
    .cost = gemm_cost,
    .doc = "alpha * A' * B' + beta * C (oneDNN matmul on CPU)",
});

FC_REGISTER_OP(OpSchema{
    .name = "MatMul",
    .since_opset = 1,
    .min_inputs = 2,
    .max_inputs = 2,
    .infer = infer_matmul,
    .cost = matmul_cost,
    .doc = "numpy matmul with batch broadcasting (oneDNN matmul on CPU)",
});

}  // namespace fc::ir
