// Kernels must read the current value of training-state parameters on every run: a parameter that
// the previous step updated may not be served from a copy cached when the kernel was built. And the
// optimizer updates write the new state over the old one where nothing else needs it (ir/in_place.h).
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"
#include "ir/graph.h"
#include "ir/hyperparams.h"
#include "ir/in_place.h"
#include "ir/op_registry.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

// out = op(inputs...) where input `state_index` is a state parameter doubled after every run; the
// second run must equal twice the first for ops linear in that input.
void expect_reads_updated_state(const std::string& op, std::vector<Tensor> inputs, size_t state_index,
                                std::map<std::string, Attribute> attrs) {
  SCOPED_TRACE(op);
  Graph g;
  std::vector<Value*> ins;
  for (size_t i = 0; i < inputs.size(); ++i) ins.push_back(g.add_param("in" + std::to_string(i), inputs[i]));
  Value* out = g.add_value("out", {});
  Node* n = g.add_node(op, ins, {out}, attrs, "op");
  n->domain = "fc";
  if (!OpRegistry::global().find(op, "fc")) n->domain = "";
  Value* doubled = g.add_value("doubled", {});
  g.add_node("Add", {ins[state_index], ins[state_index]}, {doubled}, {}, "double");
  g.outputs = {out};
  g.state_updates.emplace_back(ins[state_index], doubled);
  infer_graph_types(g);
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  Tensor first = ex.run({}).at("out").clone();
  Tensor second = ex.run({}).at("out");
  ASSERT_EQ(first.numel(), second.numel());
  for (size_t i = 0; i < first.numel(); ++i)
    ASSERT_NEAR(second.data<float>()[i], 2 * first.data<float>()[i], 1e-4 * (1 + std::fabs(first.data<float>()[i])))
        << "element " << i;
}

}  // namespace

TEST(ExecutorState, KernelsReadUpdatedWeights) {
  using test::random_tensor;
  std::map<std::string, Attribute> conv{{"kernel_shape", std::vector<int64_t>{3, 3}},
                                        {"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  // Conv forward (weight), ConvGradData (weight), Gemm (B).
  expect_reads_updated_state("Conv", {random_tensor({2, 16, 4, 4}, 1), random_tensor({32, 16, 3, 3}, 2)}, 1, conv);
  expect_reads_updated_state("ConvGradData",
                             {random_tensor({2, 32, 4, 4}, 3), random_tensor({32, 16, 3, 3}, 4),
                              random_tensor({2, 16, 4, 4}, 5)},
                             1, conv);
  expect_reads_updated_state("Gemm", {random_tensor({4, 8}, 6), random_tensor({8, 5}, 7)}, 1, {});
  expect_reads_updated_state("MatMul", {random_tensor({4, 8}, 8), random_tensor({8, 5}, 9)}, 1, {});
}

namespace {

// w' = SGDUpdate(w, g, hyper, buf) with momentum, both results state; `reader` adds a node after the
// update that reads the old w.
struct SgdGraph {
  Graph g;
  Value *w, *buf, *w2, *buf2;
  explicit SgdGraph(bool reader) {
    std::vector<float> hyper(ir::kHyperSize, 0.0f);
    hyper[ir::kHyperLr] = 0.5f;
    hyper[ir::kHyperMomentum] = 0.9f;
    hyper[ir::kHyperStep] = 1;  // not the first step: buf' = 0.9 buf + g
    w = g.add_param("w", Tensor::from_vector<float>({4}, {1, 2, 3, 4}));
    Value* grad = g.add_param("g", Tensor::from_vector<float>({4}, {1, 1, 1, 1}));
    Value* h = g.add_param("h", Tensor::from_vector<float>({ir::kHyperSize}, hyper));
    buf = g.add_param("buf", Tensor::from_vector<float>({4}, {0, 0, 0, 0}));
    w2 = g.add_value("w2", {});
    buf2 = g.add_value("buf2", {});
    g.add_node("SGDUpdate", {w, grad, h, buf}, {w2, buf2}, {}, "sgd")->domain = "fc";
    Value* out = g.add_value("out", {});
    if (reader) g.add_node("Add", {w, w}, {out}, {}, "late_reader");
    else g.add_node("Add", {grad, grad}, {out}, {}, "other");
    g.outputs = {out};
    g.state_updates = {{w, w2}, {buf, buf2}};
    infer_graph_types(g);
  }
};

}  // namespace

TEST(InPlaceUpdates, OnlyWhereNoLaterNodeReadsTheOldState) {
  SgdGraph plain(false), late(true);
  auto a = in_place_state_updates(plain.g);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(a.at(plain.w2), plain.w);
  EXPECT_EQ(a.at(plain.buf2), plain.buf);
  auto b = in_place_state_updates(late.g);
  EXPECT_EQ(b.size(), 1u) << "w is read after the update: only the momentum buffer may be overwritten";
  EXPECT_EQ(b.count(late.w2), 0u);
  SgdGraph out(false);
  out.g.outputs.push_back(out.w2);
  EXPECT_EQ(in_place_state_updates(out.g).count(out.w2), 0u) << "a graph output is handed out: not in place";
}

TEST(InPlaceUpdates, StateKeepsItsBufferAndHeldCopiesKeepTheirValues) {
  SgdGraph s(false);
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(s.g, cpu);
  ex.run({});
  const void* w_buffer = ex.state(s.w).raw();
  const void* buf_buffer = ex.state(s.buf).raw();
  ex.run({});
  EXPECT_EQ(ex.state(s.w).raw(), w_buffer) << "the update wrote over the old weights";
  EXPECT_EQ(ex.state(s.buf).raw(), buf_buffer);
  // buf = 1, then 1.9; w = 1 - 0.5 * 1 - 0.5 * 1.9 for w0 = 1.
  EXPECT_FLOAT_EQ(ex.state(s.w).data<float>()[0], 1.0f - 0.5f - 0.5f * 1.9f);
  // A caller that keeps the state tensor keeps its values: the next update goes elsewhere.
  const Tensor held = ex.state(s.w);
  const std::vector<float> before(held.data<float>(), held.data<float>() + 4);
  ex.run({});
  EXPECT_NE(ex.state(s.w).raw(), held.raw());
  EXPECT_EQ(std::vector<float>(held.data<float>(), held.data<float>() + 4), before);
  EXPECT_NE(ex.state(s.w).data<float>()[0], before[0]);
}
