// The importer across ONNX opsets 7 to 21 (tests/fixtures/make_opset_fixtures.py): each op form that
// changed between versions normalises to the one IR form, the opset-9..13 BatchNormalization training
// form trains, graph inputs keep their declared dims, and our shape functions (not onnx 1.12's
// inference) decide output shapes. Every op's version table is checked against the registry's rules.
#include <gtest/gtest.h>

#include <filesystem>

#include "frontend/onnx_import.h"
#include "frontend_test_util.h"
#include "ir/op_registry.h"

using namespace fc;
using namespace fc::ir;

namespace {

std::string fixture(const std::string& name) {
  return (std::filesystem::path(generated_fixture_dir("make_opset_fixtures.py")) / name).string();
}

using Ints = std::vector<int64_t>;

TEST(FrontendOpsets, VersionTablesStartWhereTheOpDoes) {
  const OpSchema* reduce_mean = OpRegistry::global().find("ReduceMean");
  ASSERT_TRUE(reduce_mean);
  EXPECT_EQ(reduce_mean->onnx_version_at(17), 13);
  EXPECT_EQ(reduce_mean->onnx_version_at(21), 18);
  const OpSchema* hard_swish = OpRegistry::global().find("HardSwish");
  ASSERT_TRUE(hard_swish);
  EXPECT_EQ(hard_swish->onnx_version_at(13), 0);  // not an op of opset 13
  for (const OpSchema* s : OpRegistry::global().all()) {
    if (!s->domain.empty()) continue;
    SCOPED_TRACE(s->name);
    ASSERT_FALSE(s->onnx_versions.empty());
    EXPECT_LE(s->onnx_versions.back(), kNewestOnnxOpset);
  }
}

// Opset 18 moved the other reductions' axes and Pad's axes into inputs and gave Split num_outputs;
// 20 and 21 changed types only. Both normalise to the attributes docs/ir_conventions.md gives.
TEST(FrontendOpsets, Opset18And21FormsNormaliseToAttributes) {
  for (int opset : {18, 21}) {
    SCOPED_TRACE(opset);
    Graph g = frontend::import_onnx(fixture("forms_opset" + std::to_string(opset) + ".onnx"));
    EXPECT_TRUE(g.param_order().empty());
    const Node* mean = node_named(g, "rmean");
    const Node* max = node_named(g, "rmax");
    const Node* min = node_named(g, "rmin");
    const Node* split = node_named(g, "split");
    const Node* pad = node_named(g, "pad");
    ASSERT_TRUE(mean && max && min && split && pad);
    for (const Node* n : {mean, max, min, split, pad}) EXPECT_EQ(n->inputs.size(), 1u) << n->name;
    EXPECT_EQ(mean->attr_ints("axes"), Ints{2});
    EXPECT_EQ(max->attr_ints("axes"), Ints{-1});
    EXPECT_FALSE(min->has_attr("axes"));  // an empty axes input: every axis
    EXPECT_EQ(split->attr_ints("split"), (Ints{3, 2}));
    EXPECT_FALSE(split->has_attr("num_outputs"));
    EXPECT_EQ(pad->attr_ints("pads"), (Ints{0, 0, 1, 0, 0, 2}));
    EXPECT_EQ(pad->attr_float("value"), 0.5f);
    EXPECT_EQ(to_string(g.value("rmean")->type), "f32[N,5]");
    EXPECT_EQ(to_string(g.value("rmax")->type), "f32[N,5,1]");
    EXPECT_EQ(to_string(g.value("rmin")->type), "f32[]");
    EXPECT_EQ(to_string(g.value("s1")->type), "f32[N,2,4]");
    EXPECT_EQ(to_string(g.value("p")->type), "f32[N,5,7]");
  }
}

TEST(FrontendOpsets, Opset7AttributeFormsAreRead) {
  Graph g = frontend::import_onnx(fixture("forms_opset7.onnx"));
  const Node* slice = node_named(g, "slice");
  const Node* clip = node_named(g, "clip");
  const Node* pad = node_named(g, "pad");
  const Node* split = node_named(g, "split");
  const Node* bn = node_named(g, "bn");
  ASSERT_TRUE(slice && clip && pad && split && bn);
  EXPECT_EQ(slice->attr_ints("starts"), Ints{1});
  EXPECT_EQ(clip->attr_float("max"), 6.0f);
  EXPECT_EQ(pad->attr_ints("pads"), (Ints{0, 0, 1, 0, 0, 2}));
  EXPECT_EQ(split->attr_ints("split"), (Ints{3, 2}));
  EXPECT_FALSE(bn->has_attr("spatial"));
  EXPECT_EQ(bn->attr_int("training_mode"), 0);
  EXPECT_EQ(to_string(g.value("sl")->type), "f32[N,2,4]");
  EXPECT_EQ(to_string(g.value("p")->type), "f32[N,5,7]");
}

// Before opset 14 a BatchNormalization trains exactly when it has its optional outputs.
TEST(FrontendOpsets, FiveOutputBatchNormIsTheTrainingForm) {
  for (int opset : {9, 13}) {
    SCOPED_TRACE(opset);
    Graph g = frontend::import_onnx(fixture("bn_train_opset" + std::to_string(opset) + ".onnx"));
    const Node* bn = node_named(g, "bn");
    ASSERT_TRUE(bn);
    EXPECT_EQ(bn->attr_int("training_mode"), 1);
    EXPECT_EQ(bn->outputs.size(), 3u);
    EXPECT_EQ(to_string(g.value("rm")->type), "f32[3]");
  }
  std::string path = fixture("bn_train_opset13_saved_used.onnx");
  EXPECT_EQ(error_of([&] { frontend::import_onnx(path); }),
            path + ": BatchNormalization node 'bn': output 'saved_mean' (saved_mean/saved_var) is used, which is not "
                   "supported");
}

// Only the data input's first dim is the batch: other inputs keep what the model declares.
TEST(FrontendOpsets, GraphInputsKeepTheirDeclaredDims) {
  Graph gemm = frontend::import_onnx(fixture("gemm_c_input.onnx"));
  EXPECT_EQ(to_string(gemm.value("a")->type), "f32[N,4]");
  EXPECT_EQ(to_string(gemm.value("b")->type), "f32[4,5]");
  EXPECT_EQ(to_string(gemm.value("c")->type), "f32[1,5]");
  EXPECT_EQ(to_string(gemm.value("y")->type), "f32[N,5]");
  // Labels of a loss exported with a fixed batch follow the data's batch.
  Graph loss = frontend::import_onnx(fixture("loss_fixed_batch.onnx"));
  EXPECT_EQ(to_string(loss.value("x")->type), "f32[N,3]");
  EXPECT_EQ(to_string(loss.value("labels")->type), "i64[N]");
  Graph conv = frontend::import_onnx(fixture("conv_w_input.onnx"));
  EXPECT_EQ(to_string(conv.value("w")->type), "f32[1,1,3,3]");
  EXPECT_EQ(to_string(conv.value("y")->type), "f32[N,1,3,3]");
}

// onnx 1.12's inference says 2x2 here; ONNX's own node test (and PyTorch) say 1x1.
TEST(FrontendOpsets, OurShapeFunctionsDecideNotOnnxLibraryInference) {
  Graph g = frontend::import_onnx(fixture("maxpool_ceil_reduce_by_one.onnx"));
  EXPECT_EQ(to_string(g.value("y")->type), "f32[N,1,1,1]");
}

}  // namespace
