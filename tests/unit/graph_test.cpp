// Graph construction, topological sort, dead-code removal, and the executor on a tiny graph.
#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ir/op_registry.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

TEST(Graph, ToposortReordersAndDetectsCycles) {
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::known(4)}));
  g.inputs = {x};
  Value* a = g.add_value("a", {});
  Value* b = g.add_value("b", {});
  g.add_node("Relu", {a}, {b}, {}, "second");
  g.add_node("Relu", {x}, {a}, {}, "first");
  g.outputs = {b};
  g.toposort();
  ASSERT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.nodes()[0]->name, "first");
  EXPECT_EQ(g.nodes()[1]->name, "second");
  infer_graph_types(g);
  EXPECT_EQ(to_string(b->type), "f32[N,4]");
}

TEST(Graph, RemoveDeadNodesDropsUnusedParams) {
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::known(2)}));
  g.inputs = {x};
  Value* w = g.add_param("w", Tensor(DType::F32, {2}));
  Value* y = g.add_value("y", {});
  Value* z = g.add_value("z", {});
  g.add_node("Relu", {x}, {y});
  g.add_node("Relu", {w}, {z});
  g.outputs = {y};
  g.remove_dead_nodes();
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_FALSE(g.find_value("w"));
  (void)w;
}

TEST(Executor, RunsReluAndChecksFeeds) {
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::known(3)}));
  g.inputs = {x};
  Value* y = g.add_value("y", {});
  g.add_node("Relu", {x}, {y});
  g.outputs = {y};
  infer_graph_types(g);
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  auto out = ex.run({{"x", Tensor::from_vector<float>({2, 3}, {-1, 2, -3, 4, 0, -0.5f})}});
  const Tensor& r = out.at("y");
  ASSERT_EQ(r.dims(), (std::vector<int64_t>{2, 3}));
  std::vector<float> want{0, 2, 0, 4, 0, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r.data<float>()[i], want[i]);
  EXPECT_THROW(ex.run({{"x", Tensor::from_vector<float>({2, 4}, std::vector<float>(8))}}), Error);
  EXPECT_THROW(ex.run({}), Error);
}
