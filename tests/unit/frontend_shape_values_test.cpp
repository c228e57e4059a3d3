// Shapes that are values (tests/fixtures/make_opset_fixtures.py, shape_values): the legacy exporter's
// spelling of `class_token.expand(n, -1, -1)` (Equal / Not / Where / Max over a shape holding the batch
// symbol) folds at import into an Expand whose batch size is read at run time, and a shape-like graph
// input is bound to the value given (fcrun infer) or refused with a one-line error (training).
#include <gtest/gtest.h>

#include <filesystem>

#include "frontend/onnx_import.h"
#include "frontend_test_util.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

std::string fixture(const std::string& name) {
  return (std::filesystem::path(generated_fixture_dir("make_opset_fixtures.py")) / name).string();
}

TEST(FrontendShapeValues, ClassTokenExpandedToTheBatchRunsAtAnyBatch) {
  Graph g = frontend::import_onnx(fixture("expand_class_token.onnx"));
  const Node* expand = node_named(g, "expand");
  ASSERT_TRUE(expand);
  ASSERT_EQ(expand->inputs.size(), 2u);  // the token and `like`, whose dim 0 is the batch
  EXPECT_EQ(expand->inputs[1]->name, "x");
  EXPECT_EQ(expand->attr_ints("shape"), (std::vector<int64_t>{-1, 1, 1}));
  EXPECT_EQ(expand->attr_ints("like_axes"), (std::vector<int64_t>{0}));
  EXPECT_EQ(to_string(g.value("tokens")->type), "f32[N,1,4]");
  EXPECT_EQ(to_string(g.value("y")->type), "f32[N,4,4]");
  EXPECT_EQ(g.nodes().size(), 2u);  // the shape arithmetic is gone

  runtime::cpu::CpuBackend cpu(1);
  for (int64_t n : {1, 3}) {
    Tensor x(DType::F32, {n, 3, 4});
    for (size_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = -static_cast<float>(i);
    runtime::Executor ex(g, cpu);
    Tensor y = ex.run({{"x", x}}).at("y");
    ASSERT_EQ(y.dims(), (std::vector<int64_t>{n, 4, 4}));
    for (int64_t b = 0; b < n; ++b)
      for (int64_t j = 0; j < 4; ++j) {
        EXPECT_EQ(y.data<float>()[b * 16 + j], 1.0f + j);                       // the token
        EXPECT_EQ(y.data<float>()[b * 16 + 4 + j], x.data<float>()[b * 12 + j]);  // then x
      }
  }
}

TEST(FrontendShapeValues, ShapeLikeGraphInputIsBoundOrRefused) {
  std::string path = fixture("reshape_shape_input.onnx");
  EXPECT_EQ(error_of([&] { frontend::import_onnx(path); }),
            path + ": Reshape node 'reshape': input 'shape' (shape) is a graph input, which must be a constant here "
                   "(an initializer) for training and compiling; `fcrun infer` specialises on the value it is given");
  frontend::ImportOptions bound;
  bound.bound_inputs["shape"] = Tensor::from_vector<int64_t>({2}, {3, 4});
  Graph g = frontend::import_onnx(path, bound);
  const Node* reshape = node_named(g, "reshape");
  ASSERT_TRUE(reshape);
  EXPECT_EQ(reshape->attr_ints("shape"), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(to_string(g.value("y")->type), "f32[3,4]");
  bound.bound_inputs["shape"] = Tensor::from_vector<int64_t>({2}, {4, 3});  // another value: another graph
  EXPECT_EQ(to_string(frontend::import_onnx(path, bound).value("y")->type), "f32[4,3]");
}

}  // namespace
