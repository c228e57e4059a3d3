// The training pipeline as named passes under the pass manager (passes/training_graph.h,
// passes/pass_manager.h): which passes a configuration runs, stopping after and printing after a
// pass, verification naming the pass that broke the graph, and unknown pass names.
#include <gtest/gtest.h>

#include <sstream>

#include "error_of.h"
#include "support/error.h"
#include "ir/text_format.h"
#include "ir/verifier.h"
#include "passes/pass_manager.h"
#include "passes/training_graph.h"
#include "tiny_mlp_ir.h"

using namespace fc;

namespace {

ir::Graph mlp() { return test::tiny_mlp_ir(); }

std::vector<std::string> names(const passes::TrainingConfig& config) {
  passes::TrainingGraphInfo info;
  std::vector<std::string> r;
  for (const passes::Pass& p : passes::training_passes(config, info)) r.push_back(p.name);
  return r;
}

bool has_op(const ir::Graph& g, const std::string& op) {
  for (const auto& n : g.nodes())
    if (n->op == op) return true;
  return false;
}

}  // namespace

TEST(TrainingPipeline, PassesFollowTheConfiguration) {
  EXPECT_EQ(names({}), (std::vector<std::string>{"training-form", "attention-fusion", "loss", "autodiff", "optimizer",
                                                 "allreduce-buckets", "step-io", "saved-outputs", "transpose-folding",
                                                 "elementwise-fusion", "update-fusion", "loss-fusion"}));
  passes::TrainingConfig c;
  c.accumulate = true;
  c.clip_grad_norm = 1.0f;
  c.fusion = false;
  c.attention = false;
  EXPECT_EQ(names(c), (std::vector<std::string>{"training-form", "loss", "autodiff", "accumulate", "optimizer",
                                                "allreduce-buckets", "clip-gradients", "step-io", "saved-outputs"}));
}

TEST(TrainingPipeline, StopAfterLeavesAVerifiedPartialGraph) {
  ir::Graph g = mlp();
  passes::PassManagerOptions o;
  o.stop_after = "loss";
  passes::TrainingGraphInfo info = passes::build_training_graph(g, {}, o);
  EXPECT_TRUE(has_op(g, "SoftmaxCrossEntropy"));
  EXPECT_FALSE(has_op(g, "SGDUpdate"));
  EXPECT_FALSE(has_op(g, "GemmGrad") || has_op(g, "MatMul"));  // no gradient yet
  EXPECT_TRUE(g.state_updates.empty());
  EXPECT_EQ(info.loss_output, "loss");
  EXPECT_NO_THROW(ir::verify(g));
}

TEST(TrainingPipeline, PrintAfterAllShowsEveryPassInOrderAndTheSameResult) {
  ir::Graph printed = mlp(), plain = mlp();
  std::ostringstream dump;
  passes::PassManagerOptions o;
  o.print_after = "all";
  o.dump = &dump;
  passes::build_training_graph(printed, {}, o);
  passes::build_training_graph(plain, {});
  EXPECT_EQ(ir::print_graph(printed), ir::print_graph(plain));
  size_t at = 0;
  for (const std::string& name : names({})) {
    const size_t found = dump.str().find("# after " + name + "\n", at);
    ASSERT_NE(found, std::string::npos) << name;
    at = found;
  }
  // The last pass's dump is the finished graph.
  EXPECT_NE(dump.str().rfind(ir::print_graph(plain)), std::string::npos);
}

TEST(TrainingPipeline, VerificationNamesThePassThatBrokeTheGraph) {
  ir::Graph g = mlp();
  passes::PassManager pm;
  pm.add({"harmless", [](ir::Graph&) {}});
  pm.add({"dangling-output", [](ir::Graph& graph) { graph.outputs.push_back(graph.add_value("ghost", {})); }});
  const std::string e = test::error_of([&] { pm.run(g); });
  EXPECT_EQ(e.rfind("after pass 'dangling-output': ", 0), 0u) << e;
  EXPECT_NE(e.find("ghost"), std::string::npos) << e;
}

TEST(TrainingPipeline, UnknownPassNamesAreErrorsListingThePasses) {
  ir::Graph g = mlp();
  passes::PassManagerOptions o;
  o.stop_after = "fusion";
  const std::string e = test::error_of([&] { passes::build_training_graph(g, {}, o); });
  EXPECT_EQ(e.rfind("--stop-after fusion: no such pass (passes: training-form, attention-fusion, loss, ", 0), 0u) << e;
  o = {};
  o.print_after = "nope";
  EXPECT_EQ(test::error_of([&] { passes::build_training_graph(g, {}, o); }).rfind("--print-after nope: no such pass", 0),
            0u);
}

// Autodiff records which forward node each gradient node came from (ir::Node::gradient_of), and
// the passes after it pair by that: max pooling's argmax record and the loss fused with its gradient.
TEST(TrainingPipeline, AutodiffProvenancePairsPoolAndLossWithTheirGradients) {
  const char* text = R"(graph main(%x: f32[N,2,4,4]) -> (%y: f32[N,3]) opset 17 {
    param %w: f32[3,8] = [0.1, -0.2, 0.3, 0.1, 0.2, -0.1, 0.05, 0.4, 0.3, 0.2, -0.3, 0.1, 0.0, 0.2, 0.1, -0.2, 0.1, 0.1, 0.2, 0.3, -0.1, 0.2, 0.1, 0.0]
    param %s: f32[2,1,1] = [1.5, -0.5]
    %xs: f32[N,2,4,4] = Mul(%x, %s)
    %p: f32[N,2,2,2] = MaxPool(%xs) {kernel_shape = [2, 2], strides = [2, 2]}
    %f: f32[N,8] = Flatten(%p)
    %y: f32[N,3] = Gemm(%f, %w) {transB = 1}
  })";
  ir::Graph g = ir::parse_graph(text);
  passes::PassManagerOptions stop;
  stop.stop_after = "autodiff";
  ir::Graph at_autodiff = ir::parse_graph(text);
  passes::build_training_graph(at_autodiff, {}, stop);
  const ir::Node* pool = at_autodiff.value("p")->producer;
  int pool_grads = 0, loss_grads = 0;
  for (const auto& n : at_autodiff.nodes()) {
    pool_grads += n->op == "MaxPoolGrad" && n->gradient_of == pool;
    loss_grads += n->op == "SoftmaxCrossEntropyGrad" && n->gradient_of && n->gradient_of->op == "SoftmaxCrossEntropy";
  }
  EXPECT_EQ(pool_grads, 1);
  EXPECT_EQ(loss_grads, 1);
  passes::build_training_graph(g, {}, {});
  EXPECT_TRUE(has_op(g, "MaxPoolTraining"));
  EXPECT_TRUE(has_op(g, "SoftmaxCrossEntropyAndGrad"));
  EXPECT_FALSE(has_op(g, "MaxPool"));
  EXPECT_NO_THROW(ir::verify(g));
}
