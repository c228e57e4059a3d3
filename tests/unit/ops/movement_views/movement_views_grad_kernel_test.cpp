// Gradient rules of the view ops against their adjoints (movement_adjoint.h), and Flatten's inside
// a symbolic-batch graph.
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"
#include "movement_adjoint.h"
#include "ops_movement_test_util.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test;
using namespace fc::test::movement;

namespace {

TEST(MovementGrad, AdjointsOfViews) {
  check_adjoint({"Reshape", {{2, 3, 4}}, {{"shape", Ints{0, -1}}}});
  check_adjoint({"Flatten", {{2, 3, 4}}, {{"axis", int64_t{2}}}});
  check_adjoint({"Squeeze", {{3, 1, 2}}});
  check_adjoint({"Unsqueeze", {{3, 2}}, {{"axes", Ints{0, -1}}}});
  check_adjoint({"Identity", {{4}}});
  check_adjoint({"Dropout", {{2, 5}}, {{"ratio", 0.3f}}, 2, {0}});
}

// Flatten inside a batch-symbolic graph: y = Flatten(x + p), x: [N, 2, 3], p: [2, 3]. The gradient
// graph keeps N symbolic and dp = sum over the batch of R viewed as [N, 2, 3].
TEST(MovementGrad, SymbolicBatchThroughFlatten) {
  ir::Graph g;
  ir::Value* x = g.add_value("x", TensorType(DType::F32, {N(), K(2), K(3)}));
  ir::Value* r = g.add_value("r", TensorType(DType::F32, {N(), K(6)}));
  g.inputs = {x, r};
  ir::Value* p = g.add_param("p", random_tensor({2, 3}, 1));
  ir::Value* z = g.add_value("z", {});
  ir::Value* y = g.add_value("y", {});
  g.add_node("Add", {x, p}, {z});
  g.add_node("Flatten", {z}, {y});
  ir::infer_graph_types(g);
  passes::Gradients grads = passes::build_vjp(g, {{y, r}}, {p});
  ir::Value* dp = grads.of.at(p);
  EXPECT_EQ(ir::to_string(dp->type), "f32[2,3]");
  bool saw_reshape = false;
  for (const auto& n : g.nodes())
    if (n->op == "Reshape") {
      saw_reshape = true;
      EXPECT_EQ(ir::to_string(n->outputs[0]->type), "f32[N,2,3]");
    }
  EXPECT_TRUE(saw_reshape);
  g.outputs = {dp};
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  Tensor rv = random_tensor({4, 6}, 2);
  auto out = ex.run({{"x", random_tensor({4, 2, 3}, 3)}, {"r", rv}});
  for (int j = 0; j < 6; ++j) {
    double want = 0;
    for (int b = 0; b < 4; ++b) want += rv.data<float>()[b * 6 + j];
    EXPECT_NEAR(out.at(dp->name).data<float>()[j], want, 1e-5);
  }
}

}  // namespace
