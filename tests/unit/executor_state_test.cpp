// Kernels must read the current value of training-state parameters on every run: a parameter that
// the previous step updated may not be served from a copy cached when the kernel was built.
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"
#include "ir/graph.h"
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
