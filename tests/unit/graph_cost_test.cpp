// passes/graph_cost.h: a node is costed only when every input and output type is known at the
// batch, since cost functions read input sizes too. PyTorch 2.x's as_strided decomposition leaves
// a dim no shape function can name (a Range over a run-time size), and the weight gradient of the
// Linear after it has a known [out, in] type from two inputs of unknown rows.
#include "passes/graph_cost.h"

#include <gtest/gtest.h>

#include "ir/op_registry.h"

using namespace fc;

TEST(GraphCost, NodesWithUnknownInputDimsAreNotCosted) {
  ir::Graph g;
  ir::Value* dy = g.add_value("dy", ir::TensorType(ir::DType::F32, {ir::Dim::unknown(), ir::Dim::known(10)}));
  ir::Value* x = g.add_value("x", ir::TensorType(ir::DType::F32, {ir::Dim::unknown(), ir::Dim::known(6)}));
  ir::Value* a = g.add_value("a", ir::TensorType(ir::DType::F32, {ir::Dim::sym("N"), ir::Dim::known(6)}));
  ir::Value* b = g.add_value("b", ir::TensorType(ir::DType::F32, {ir::Dim::known(5), ir::Dim::known(6)}));
  g.inputs = {dy, x, a, b};
  ir::Value* dw = ir::add_node_inferred(g, "Gemm", "", {dy, x}, {g.add_value("dw", {})},
                                          {{"transA", int64_t{1}}}, "dw_gemm")->outputs[0];
  ir::Value* y = ir::add_node_inferred(g, "Gemm", "", {a, b}, {g.add_value("y", {})},
                                         {{"transB", int64_t{1}}}, "y_gemm")->outputs[0];
  g.outputs = {dw, y};
  ASSERT_TRUE(dw->type.is_concrete());  // [10, 6] from inputs of unknown rows
  const passes::GraphCost cost = passes::estimate_cost(g, 4);
  ASSERT_EQ(cost.nodes.size(), 2u);
  EXPECT_EQ(cost.nodes[0].cost.flops, 0.0);               // not costed: its inputs' sizes are unknown
  EXPECT_EQ(cost.nodes[1].cost.flops, 2.0 * 4 * 5 * 6);  // N bound to 4: [4, 6] x [5, 6]^T, 2 M N K
}
