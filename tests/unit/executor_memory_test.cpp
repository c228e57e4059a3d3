// The executor's step memory plan (runtime/executor.h, runtime/memory_plan.h): planned steps give
// bitwise the results of unplanned ones, intermediates share memory, and a view (Reshape) keeps
// the memory of the tensor it views alive for as long as the view is read.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "frontend/onnx_import.h"
#include "gradcheck.h"
#include "ir/graph.h"
#include "ir/op_registry.h"
#include "runtime/cpu/cpu_backend.h"
#include "passes/training_graph.h"
#include "runtime/executor.h"
#include "tiny_mlp_ir.h"

using namespace fc;
using namespace fc::ir;

namespace {

// x [4, 256] -> a = Relu(x) -> r = Reshape(a, [1024])   (a view of a's memory)
//            -> b = Neg(x)  -> s = Reshape(b, [1024]) -> e = Mul(s, s) -> f = Add(e, e)
//            -> out = Add(r, f)
// b, e and f are computed after a's last direct reader (the Reshape): only the view r keeps a's
// memory from being reused by them.
Graph make_graph() {
  Graph g;
  Value* x = g.add_value("x", TensorType{DType::F32, {Dim::sym("n"), Dim::sym("m")}});
  g.inputs.push_back(x);
  const std::map<std::string, Attribute> flat{{"shape", std::vector<int64_t>{1024}}};
  auto v = [&](const char* name) { return g.add_value(name, {}); };
  Value *a = v("a"), *r = v("r"), *b = v("b"), *s = v("s"), *e = v("e"), *f = v("f"), *out = v("out");
  g.add_node("Relu", {x}, {a}, {}, "relu");
  g.add_node("Reshape", {a}, {r}, flat, "view_a");
  g.add_node("Neg", {x}, {b}, {}, "neg");
  g.add_node("Reshape", {b}, {s}, flat, "view_b");
  g.add_node("Mul", {s, s}, {e}, {}, "square");
  g.add_node("Add", {e, e}, {f}, {}, "twice");
  g.add_node("Add", {r, f}, {out}, {}, "sum");
  g.outputs = {out};
  infer_graph_types(g);
  return g;
}

std::vector<float> values(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

}  // namespace

TEST(ExecutorMemory, PlannedStepsMatchFreshOnesAndShareMemory) {
  const Graph g = make_graph();
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor planned(g, cpu);
  EXPECT_EQ(planned.planned_arena_bytes(), 0u);
  for (int step = 0; step < 4; ++step) {
    const Tensor x = test::random_tensor({4, 256}, 100 + step);
    runtime::Executor fresh(g, cpu);  // planned from scratch for this one step
    const std::vector<float> want = values(fresh.run({{"x", x}}).at("out"));
    const std::vector<float> got = values(planned.run({{"x", x}}).at("out"));
    ASSERT_EQ(want.size(), got.size());
    EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0) << "step " << step;
    // Independent check of the values, view included: out = relu(x) + 2 x^2.
    for (size_t i = 0; i < got.size(); ++i) {
      const float xi = x.data<float>()[i];
      ASSERT_FLOAT_EQ(got[i], std::max(xi, 0.0f) + (xi * xi + xi * xi)) << "step " << step << " element " << i;
    }
  }
  // a (kept by its view) and b, s/e, f: at most 3 buffers of 4 KiB alive at once, not 4.
  const size_t tensor_bytes = 4 * 256 * sizeof(float);
  EXPECT_GT(planned.planned_arena_bytes(), 0u);
  EXPECT_LE(planned.planned_arena_bytes(), 3 * tensor_bytes);
}

TEST(ExecutorMemory, NewInputShapesGetANewPlan) {
  const Graph g = make_graph();
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  ex.run({{"x", test::random_tensor({4, 256}, 1)}});
  const size_t first = ex.planned_arena_bytes();
  // Same element count through the Reshape needs [4, 256]; a [2, 512] input is another shape with
  // the same 1024 elements.
  const Tensor x = test::random_tensor({2, 512}, 2);
  const std::vector<float> got = values(ex.run({{"x", x}}).at("out"));
  for (size_t i = 0; i < got.size(); ++i) {
    const float xi = x.data<float>()[i];
    ASSERT_FLOAT_EQ(got[i], std::max(xi, 0.0f) + (xi * xi + xi * xi)) << "element " << i;
  }
  EXPECT_EQ(ex.planned_arena_bytes(), first);  // re-planned for [2, 512]: same sizes
}

// A size that depends on computed values (ConstantOfShape of Shape(x)) cannot be planned from
// shapes: the first step allocates afresh and records, later steps use the plan made from it.
TEST(ExecutorMemory, ValueDependentSizesArePlannedFromARecordedStep) {
  Graph g;
  Value* x = g.add_value("x", TensorType{DType::F32, {Dim::sym("n"), Dim::sym("m")}});
  g.inputs.push_back(x);
  Value *shape = g.add_value("shape", {}), *ones = g.add_value("ones", {}), *a = g.add_value("a", {}),
        *b = g.add_value("b", {}), *out = g.add_value("out", {});
  g.add_node("Shape", {x}, {shape}, {}, "shape");
  g.add_node("ConstantOfShape", {shape}, {ones}, {{"value", Tensor::from_vector<float>({1}, {1.0f})}}, "ones");
  g.add_node("Add", {x, ones}, {a}, {}, "plus_one");
  g.add_node("Mul", {a, a}, {b}, {}, "square");
  g.add_node("Neg", {b}, {out}, {}, "neg");
  g.outputs = {out};
  infer_graph_types(g);
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  for (int step = 0; step < 3; ++step) {
    const Tensor x_val = test::random_tensor({3, 5}, 10 + step);
    const std::vector<float> got = values(ex.run({{"x", x_val}}).at("out"));
    EXPECT_GT(ex.planned_arena_bytes(), 0u) << "step " << step;  // planned after the recorded step
    for (size_t i = 0; i < got.size(); ++i) {
      const float xi = x_val.data<float>()[i];
      ASSERT_FLOAT_EQ(got[i], -((xi + 1) * (xi + 1))) << "step " << step << " element " << i;
    }
  }
}

// `fcc inspect` reports Executor::plan_memory_for (kernels built, nothing run or allocated): it must
// be the plan a real step then runs with, for whole training steps of PyTorch 2.x exports (an MLP,
// a CNN with BatchNorm, a residual block) and the text-IR MLP, at two batch sizes.
TEST(ExecutorMemory, PlanWithoutRunningIsThePlanARunUses) {
  std::vector<Graph> models;
  for (const char* f : {"tiny_mlp.onnx", "tiny_bn_cnn.onnx", "tiny_block.onnx"})
    models.push_back(frontend::import_onnx(std::string(FC_SOURCE_DIR) + "/tests/fixtures/torch2/" + f));
  models.push_back(test::tiny_mlp_ir());
  for (Graph& g : models) {
    SCOPED_TRACE(g.name);
    passes::build_training_graph(g, {});
    for (int64_t batch : {3, 8}) {
      std::map<std::string, Tensor> feeds;
      for (const Value* in : g.inputs) {
        std::vector<int64_t> dims;
        for (const Dim& d : in->type.dims) dims.push_back(d.is_known() ? d.size : batch);
        feeds[in->name] = Tensor(in->type.dtype, dims);
      }
      runtime::cpu::CpuBackend cpu(1);
      runtime::Executor planner(g, cpu), runner(g, cpu);
      const std::optional<runtime::MemoryPlan> planned = planner.plan_memory_for(feeds);
      ASSERT_TRUE(planned.has_value()) << "sizes known from shapes alone";
      runner.run(feeds);
      const std::optional<runtime::MemoryPlan> used = runner.planned_memory();
      ASSERT_TRUE(used.has_value());
      EXPECT_GT(used->arena_bytes, 0u);
      EXPECT_EQ(planned->arena_bytes, used->arena_bytes) << "batch " << batch;
      EXPECT_EQ(planned->peak_live_bytes, used->peak_live_bytes) << "batch " << batch;
      EXPECT_EQ(planned->offsets, used->offsets) << "batch " << batch;
    }
  }
}
