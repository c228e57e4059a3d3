// Verifier: accepts well-formed graphs and rejects each kind of defect with a message naming the
// offending node (or graph value). Graphs are written in the text IR where it can express the
// defect, and built in C++ where the parser itself would refuse them (use before definition).
#include "ir/verifier.h"

#include <gtest/gtest.h>

#include "support/error.h"
#include "ir/op_helpers.h"
#include "ir/text_format.h"

using namespace fc;
using namespace fc::ir;

namespace {

// Test-only ops (domain "test") so that these tests do not depend on which ONNX ops exist yet.
// VerifierTestSplit2(x [, bias]) -> (x, x), required int attribute `k`.
FC_REGISTER_OP(OpSchema{
    .name = "VerifierTestSplit2",
    .domain = "test",
    .min_inputs = 1,
    .max_inputs = 2,
    .min_outputs = 2,
    .max_outputs = 2,
    .attrs = {{"k", AttrKind::Int, std::nullopt, true}, {"scale", AttrKind::Float, Attribute{1.0f}}},
    .infer =
        [](const InferContext& ctx) {
          return std::vector<TensorType>{ctx.in(0), ctx.in(0)};
        },
});

const char* kValid = R"(graph g(%x: f32[N,4]) -> (%y: f32[N,4], %b: f32[N,?]) opset 17 {
  param %w: f32[4] = [1, 2, 3, 4]
  %r: f32[N,4] = Relu(%x) @r1
  %a: f32[N,4], %b: f32[N,?] = test.VerifierTestSplit2(%r, _) {k = 2, scale = 3} @split
  %y: f32[N,4] = Relu(%a) @r2
  %wn: f32[4] = Relu(%w) @r3
  update %w <- %wn
}
)";

// Expects verify() to throw with a message containing every one of `parts`.
void expect_rejected(const Graph& g, std::initializer_list<std::string> parts) {
  try {
    verify(g);
    ADD_FAILURE() << "verified without error";
  } catch (const Error& e) {
    std::string msg = e.what();
    for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

void expect_rejected(const std::string& text, std::initializer_list<std::string> parts) {
  expect_rejected(parse_graph(text, "verifier_test.ir"), parts);
}

// kValid with one line replaced.
std::string with(const std::string& from, const std::string& to) {
  std::string s = kValid;
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST(Verifier, AcceptsWellFormedGraph) {
  Graph g = parse_graph(kValid);
  EXPECT_NO_THROW(verify(g));
  // A recorded '?' accepts a known inferred size, and an inferred '?' accepts any recorded one.
  EXPECT_NO_THROW(verify(parse_graph(with("%y: f32[N,4] = Relu(%a)", "%y: f32[N,4] = Relu(%b)"))));
}

TEST(Verifier, RejectsUnknownOp) {
  expect_rejected(with("Relu(%x) @r1", "Frobnicate(%x) @r1"), {"Frobnicate node 'r1'", "unknown op 'Frobnicate'"});
  expect_rejected(with("test.VerifierTestSplit2", "fc.VerifierTestSplit2"),
                  {"'split'", "unknown op 'fc.VerifierTestSplit2'"});
}

TEST(Verifier, RejectsBadCountsAndAttributes) {
  expect_rejected(with("Relu(%x) @r1", "Relu(%x, %x) @r1"), {"Relu node 'r1'", "inputs, got 2"});
  expect_rejected(with("Relu(%x) @r1", "Relu(_) @r1"), {"Relu node 'r1'", "input 0 is required"});
  expect_rejected(with("%r: f32[N,4] = Relu(%x) @r1", "%r: f32[N,4], %r2: f32[N,4] = Relu(%x) @r1"),
                  {"Relu node 'r1'", "has 2 outputs"});
  expect_rejected(with("{k = 2, scale = 3}", "{k = \"two\", scale = 3}"),
                  {"VerifierTestSplit2 node 'split'", "attribute 'k' should be int, is string"});
  expect_rejected(with("{k = 2, scale = 3}", "{scale = 3.0}"),
                  {"VerifierTestSplit2 node 'split'", "missing required attribute 'k'"});
  expect_rejected(with("{k = 2, scale = 3}", "{k = 2, scale = [1.0]}"), {"'split'", "should be float, is floats"});
}

TEST(Verifier, RejectsRecordedTypesTheOpDoesNotInfer) {
  expect_rejected(with("%r: f32[N,4] = Relu(%x) @r1\n  %a: f32[N,4]", "%r: i64[N,4] = Relu(%x) @r1\n  %a: i64[N,4]"),
                  {"Relu node 'r1'", "'r' is recorded as i64[N,4] but the op infers f32[N,4]"});
  expect_rejected(
      with("%r: f32[N,4] = Relu(%x) @r1\n  %a: f32[N,4]", "%r: f32[N,4,1] = Relu(%x) @r1\n  %a: f32[N,4,1]"),
      {"Relu node 'r1'", "recorded as f32[N,4,1]"});
  expect_rejected(with("%r: f32[N,4] = Relu(%x) @r1\n  %a: f32[N,4]", "%r: f32[N,5] = Relu(%x) @r1\n  %a: f32[N,5]"),
                  {"Relu node 'r1'", "recorded as f32[N,5] but the op infers f32[N,4]"});
  // A known size never stands for a symbol, and symbols must agree.
  expect_rejected(with("%r: f32[N,4] = Relu(%x) @r1\n  %a: f32[N,4]", "%r: f32[8,4] = Relu(%x) @r1\n  %a: f32[8,4]"),
                  {"Relu node 'r1'", "recorded as f32[8,4]"});
  expect_rejected(with("%r: f32[N,4] = Relu(%x) @r1\n  %a: f32[N,4]", "%r: f32[M,4] = Relu(%x) @r1\n  %a: f32[M,4]"),
                  {"Relu node 'r1'", "recorded as f32[M,4]"});
  expect_rejected(with("%wn: f32[4] = Relu(%w) @r3\n  update %w <- %wn", "%wn: undef[] = Relu(%w) @r3"),
                  {"Relu node 'r3'", "'wn' has no type"});
}

TEST(Verifier, RejectsUseBeforeDefinitionAndUndefinedValues) {
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::known(2)}));
  g.inputs = {x};
  Value* a = g.add_value("a", x->type);
  Value* b = g.add_value("b", x->type);
  g.add_node("Relu", {a}, {b}, {}, "second");
  g.add_node("Relu", {x}, {a}, {}, "first");
  g.outputs = {b};
  expect_rejected(g, {"Relu node 'second'", "'a' is used before it is defined by Relu node 'first'", "topological"});
  g.toposort();
  EXPECT_NO_THROW(verify(g));

  Value* dangling = g.add_value("dangling", x->type);
  Value* c = g.add_value("c", x->type);
  g.add_node("Relu", {dangling}, {c}, {}, "third");
  expect_rejected(g, {"Relu node 'third'", "'dangling' is not a graph input, parameter or node output"});
}

TEST(Verifier, RejectsValuesDefinedTwiceAndUndefinedOutputs) {
  {
    // A second node claiming a value that another node produces.
    Graph g = parse_graph(kValid);
    Node* r2 = g.nodes()[2].get();
    ASSERT_EQ(r2->name, "r2");
    r2->outputs[0] = g.value("r");
    expect_rejected(g, {"Relu node 'r2'", "'r' does not record this node as its producer"});
  }
  {
    Graph g = parse_graph(kValid);
    g.inputs.push_back(g.inputs[0]);
    expect_rejected(g, {"'x' is defined more than once"});
  }
  {
    Graph g = parse_graph(kValid);
    g.inputs.push_back(g.value("r"));
    expect_rejected(g, {"input 'r' is also produced by Relu node 'r1'"});
  }
  {
    Graph g = parse_graph(kValid);
    g.outputs.push_back(g.add_value("never", TensorType(DType::F32, {})));
    expect_rejected(g, {"graph 'g'", "output 'never' is never defined"});
  }
}

TEST(Verifier, RejectsDuplicateNodeNames) { expect_rejected(with("@r2", "@r1"), {"Relu node 'r1'", "same name"}); }

TEST(Verifier, ChecksParametersAndStateUpdates) {
  expect_rejected(with("update %w <- %wn", "update %r <- %wn"), {"state update of 'r'", "not a parameter"});
  expect_rejected(
      with("%wn: f32[4] = Relu(%w) @r3\n  update %w <- %wn", "%wn: f32[4] = Relu(%w) @r3\n  update %w <- %x"),
      {"state update of 'w'", "f32[N,4]"});
  Graph g = parse_graph(kValid);
  g.set_param(g.value("w"), Tensor(DType::F32, {5}));
  expect_rejected(g, {"parameter 'w' has type f32[4] but its tensor is f32[5]"});
}
