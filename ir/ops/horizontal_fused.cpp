// fc.HorizontalFused: the same elementwise program over several independent segments in one kernel,
// made by the update fusion pass (passes/update_fusion.h) from the optimizer updates of an allreduce
// bucket, so a bucket's whole SGD / AdamW step is one launch.
//   fc.HorizontalFused(segment 0's inputs, segment 1's inputs, ...) {program, ops, segments, in_place}
//       -> (segment 0's outputs, segment 1's outputs, ...)
// Every segment has the same number of inputs and outputs, in the order of the program's (ir/
// fused_kernel.h, body_text). In a segment, every input the program loads has exactly the outputs'
// shape (no broadcasting: the kernel walks a segment as one flat run), and the program's table
// inputs (`param`, e.g. the hyper-parameter vector) may have any shape. `in_place` lists (output,
// input) pairs of one segment, segment-relative, where the output may take the input's buffer (as
// the fused op's own OpSchema::in_place). Runs after autodiff: no gradient rule. Kernel: the CPU
// backend compiles the program once with the LLVM JIT (runtime/cpu/kernels/fused.cpp).
#include <string>
#include <vector>

#include "support/error.h"
#include "ir/fused_kernel.h"
#include "ir/op_helpers.h"

namespace fc::ir {
namespace {

struct Layout {
  FusedKernel program;  // at scalar shapes
  size_t segments = 0, inputs = 0, outputs = 0;  // inputs and outputs per segment
};

Layout layout(const Node& n) {
  Layout l;
  const int64_t s = n.attr_int("segments");
  FC_CHECK(s >= 1 && n.inputs.size() % static_cast<size_t>(s) == 0 && n.outputs.size() % static_cast<size_t>(s) == 0,
           n.describe(), ": ", n.inputs.size(), " inputs and ", n.outputs.size(), " outputs do not split into ", s,
           " segments");
  l.segments = static_cast<size_t>(s);
  l.inputs = n.inputs.size() / l.segments;
  l.outputs = n.outputs.size() / l.segments;
  try {
    l.program = FusedKernel::program_of(n.attr_string("program"), static_cast<int>(l.inputs));
  } catch (const Error& e) {
    fail(n.describe(), ": ", e.what());
  }
  FC_CHECK(static_cast<size_t>(l.program.num_outputs()) == l.outputs, n.describe(), ": program has ",
           l.program.num_outputs(), " outputs, a segment has ", l.outputs);
  return l;
}

std::vector<TensorType> horizontal_infer(const InferContext& ctx) {
  const Layout l = layout(ctx.node);
  std::vector<TensorType> out;
  for (size_t s = 0; s < l.segments; ++s) {
    const TensorType* shape = nullptr;
    for (size_t i = 0; i < l.inputs; ++i) {
      const TensorType& t = ctx.in(s * l.inputs + i);
      FC_CHECK(t.dtype == DType::F32, ctx.node.describe(), ": input ", s * l.inputs + i, " must be f32, got ",
               dtype_name(t.dtype));
      if (!l.program.is_loaded(static_cast<int>(i))) continue;
      if (!shape) shape = &t;
      FC_CHECK(t.dims == shape->dims, ctx.node.describe(), ": segment ", s, " input ", i, " has shape ", to_string(t),
               ", the segment's others ", to_string(*shape));
    }
    FC_CHECK(shape, ctx.node.describe(), ": the program loads no input");
    out.insert(out.end(), l.outputs, *shape);
  }
  return out;
}

// One flop per scalar operation of the program and output element; bytes as unfused ops that read
// each input once and write each output once.
OpCost horizontal_cost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  const Layout l = layout(ctx.node);
  double elements = 0;
  for (size_t s = 0; s < l.segments && l.outputs; ++s)
    if (outs[s * l.outputs].is_concrete()) elements += double(outs[s * l.outputs].numel());
  OpCost c = elementwise_cost(0)(ctx, outs);
  c.flops = double(l.program.arithmetic_ops()) * elements;
  return c;
}

std::vector<std::pair<int, int>> horizontal_in_place(const Node& n) {
  const Layout l = layout(n);
  const std::vector<int64_t> pairs = n.attr_ints("in_place");
  std::vector<std::pair<int, int>> all;
  for (size_t s = 0; s < l.segments; ++s)
    for (size_t p = 0; p + 1 < pairs.size(); p += 2)
      all.emplace_back(static_cast<int>(s * l.outputs + static_cast<size_t>(pairs[p])),
                       static_cast<int>(s * l.inputs + static_cast<size_t>(pairs[p + 1])));
  return all;
}

FC_REGISTER_OP(OpSchema{
    .name = "HorizontalFused",
    .domain = "fc",
    .min_inputs = 1,
    .max_inputs = 1 << 20,
    .min_outputs = 1,
    .max_outputs = 1 << 20,
    .attrs = {{"program", AttrKind::String, std::nullopt, true},
              {"segments", AttrKind::Int, std::nullopt, true},
              {"ops", AttrKind::Strings, Attribute{std::vector<std::string>{}}},
              {"in_place", AttrKind::Ints, Attribute{std::vector<int64_t>{}}}},
    .infer = horizontal_infer,
    .cost = horizontal_cost,
    .doc = "one elementwise program over many tensors in one kernel (a bucket's optimizer updates)",
    .in_place = horizontal_in_place,
});

}  // namespace
}  // namespace fc::ir
