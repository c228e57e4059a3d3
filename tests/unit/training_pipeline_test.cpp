// The training pipeline as named passes under the pass manager (passes/training_graph.h,
// passes/pass_manager.h): which passes a configuration runs, stopping after and printing after a
// pass, verification naming the pass that broke the graph, and unknown pass names.
#include <gtest/gtest.h>

#include <sstream>

#include "error_of.h"
#include "ir/error.h"
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
                                                 "allreduce-buckets", "step-io", "pool-argmax", "elementwise-fusion",
                                                 "update-fusion", "loss-fusion"}));
  passes::TrainingConfig c;
  c.accumulate = true;
  c.clip_grad_norm = 1.0f;
  c.fusion = false;
  c.attention = false;
  EXPECT_EQ(names(c), (std::vector<std::string>{"training-form", "loss", "autodiff", "accumulate", "optimizer",
                                                "allreduce-buckets", "clip-gradients", "step-io", "pool-argmax"}));
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
