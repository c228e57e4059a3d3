// fc.Fused: a chain of elementwise ops that the fusion pass (passes/elementwise_fusion.h) turned
// into one kernel, so the intermediate tensors are never written to memory.
//   fc.Fused(x0, x1, ...) {program, ops} -> (y0, y1, ...)
// Inputs are f32 tensors that broadcast (numpy rules) to one shape; every output has that shape.
// `program` is the kernel's scalar program without shapes (ir/fused_kernel.h, body_text): "load k"
// reads input k, "out j %v" makes value v output j. `ops` lists the fused ops' types, in order (for
// `fcc inspect` and traces). Runs after autodiff, so it has no gradient rule. Kernel: the CPU
// backend compiles the program with the LLVM JIT (runtime/cpu/kernels/fused.cpp).
#include <string>
#include <vector>

#include "support/error.h"
#include "ir/fused_kernel.h"
#include "ir/op_helpers.h"

namespace fc::ir {
namespace {

// The program at scalar shapes: checks its structure against the node's input count.
FusedKernel scalar_form(const Node& n) {
  try {
    return FusedKernel::program_of(n.attr_string("program"), static_cast<int>(n.inputs.size()));
  } catch (const Error& e) {
    fail(n.describe(), ": ", e.what());
  }
}

std::vector<TensorType> fused_infer(const InferContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    FC_CHECK(ctx.in(i).dtype == DType::F32, ctx.node.describe(), ": input ", i, " must be f32, got ",
             dtype_name(ctx.in(i).dtype));
  const FusedKernel k = scalar_form(ctx.node);
  FC_CHECK(static_cast<size_t>(k.num_outputs()) == ctx.node.outputs.size(), ctx.node.describe(), ": program has ",
           k.num_outputs(), " outputs, node has ", ctx.node.outputs.size());
  return std::vector<TensorType>(ctx.node.outputs.size(), broadcast_inputs(ctx)[0]);
}

// One flop per scalar operation of the program and output element; bytes as unfused ops that
// read each input once and write each output once.
OpCost fused_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  const double ops = double(scalar_form(ctx.node).arithmetic_ops());
  OpCost c = elementwise_cost(0)(ctx, outs);
  c.flops = outs.empty() || !outs[0].is_concrete() ? 0 : ops * double(outs[0].numel());
  return c;
}

FC_REGISTER_OP(OpSchema{
    .name = "Fused",
    .domain = "fc",
    .min_inputs = 1,
    .max_inputs = 1 << 20,
    .min_outputs = 1,
    .max_outputs = 1 << 20,
    .attrs = {{"program", AttrKind::String, std::nullopt, true},
              {"ops", AttrKind::Strings, Attribute{std::vector<std::string>{}}}},
    .infer = fused_infer,
    .cost = fused_cost,
    .doc = "fused elementwise ops (one pass over memory), made by the fusion pass",
});

}  // namespace
}  // namespace fc::ir
