// Text IR: print -> parse -> print is the identity; parsed graphs hold exactly what the text says;
// malformed text is rejected with FILE:LINE:COL messages and never crashes the parser.
#include "ir/text_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "support/error.h"
#include "ir/graph.h"

using namespace fc;
using namespace fc::ir;

namespace {

// Canonical text exercising every construct; printing its parse must reproduce it byte for byte.
const char* kCanonical =
    R"(graph "torch-jit"(%input.1: f32[N,3,8,8], %"has space": f32[?,4], %labels: i64[N]) -> (%/out/y: f32[N,4], %l: f32[]) opset 13 {
  param %conv.weight: f32[4,3,3,3]
  param %conv.bias: f32[4] = [0.5, -1, 0.1, 3.4028235e+38]
  param %"onnx::Mask_7:": bool[2] = [true, false]
  param %shape: i64[2] = [-9223372036854775808, 9223372036854775807]
  param %empty: f32[0] = []
  param %s: f64[] = [0.1]
  param %small: i8[3] = [-128, 0, 127]
  param %u: u8[2] = [0, 255]
  param %i: i32[1] = [-2147483648]
  param %acc: f32[4] = [0, 0, 0, 0]
  %/features/features.0/Conv_output_0: f32[N,4,8,8] = Conv(%input.1, %conv.weight, %conv.bias) {auto_pad = "SAME_UPPER", dilations = [1, 1], group = 1} @/features/features.0/Conv
  %r: f32[N,4,8,8] = Relu(%/features/features.0/Conv_output_0)
  %m: f32[N,4,"H out",?], %onnx::idx_1: i64[N,4,"H out",?] = MaxPool(%r) {kernel_shape = [2, 2]} @pool
  %k: f32[N,4] = test.AllKinds(%"has space", _, %m, _) {alpha = 1e-05, beta = 3.0, empty_f = floats[], empty_i = ints[], empty_s = strings[], f = [1.0, 2.5, -inf, nan], i = -3, ints = [1, -2], s = "a \"q\"\n\\\t\x01", ss = ["x", ""], t = tensor<f32[2,2]> [1, 2, 3.5, 4], tbig = tensor<i64[20]>, tscalar = tensor<i32[]> [7], tundef = tensor<undef[]>, "weird key" = 1}
  %l: f32[], %/out/y: f32[N,4] = fc.SoftmaxCrossEntropy(%k, %labels) @"loss node"
  %b2: f32[4] = com.microsoft.Gelu(%conv.bias) @gelu
  %q: f32[4] = "my domain"."weird op"(%b2) @q
  fc.Print(%q) @print
  "param"(%q) @p2
  update %conv.bias <- %b2
  accumulate %acc <- %b2
}
)";

Graph parse(const std::string& text) { return parse_graph(text, "test.ir"); }

// Expects parsing to fail with a message starting "test.ir:LINE:COL: " and containing `what`.
void expect_parse_error(const std::string& text, const std::string& where, const std::string& what) {
  try {
    parse(text);
    ADD_FAILURE() << "parsed without error:\n" << text;
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("test.ir:" + where + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

TEST(TextFormat, CanonicalTextRoundTripsExactly) {
  Graph g = parse(kCanonical);
  EXPECT_EQ(print_graph(g), kCanonical);
  Graph again = parse(print_graph(g));
  EXPECT_EQ(print_graph(again), kCanonical);
}

TEST(TextFormat, ParsedGraphHoldsWhatTheTextSays) {
  Graph g = parse(kCanonical);
  EXPECT_EQ(g.name, "torch-jit");
  EXPECT_EQ(g.opset, 13);
  ASSERT_EQ(g.inputs.size(), 3u);
  EXPECT_EQ(g.inputs[1]->name, "has space");
  EXPECT_EQ(g.inputs[1]->type, TensorType(DType::F32, {Dim::unknown(), Dim::known(4)}));
  ASSERT_EQ(g.outputs.size(), 2u);
  EXPECT_EQ(g.outputs[0]->name, "/out/y");
  EXPECT_EQ(g.outputs[1]->name, "l");
  EXPECT_EQ(g.outputs[1]->type, TensorType(DType::F32, {}));

  // Parameters: elided values are zeros of the declared shape; inline ones are exact.
  ASSERT_EQ(g.param_order().size(), 10u);
  const Tensor& w = g.param(g.value("conv.weight"));
  EXPECT_EQ(w.dims(), (std::vector<int64_t>{4, 3, 3, 3}));
  for (size_t i = 0; i < w.numel(); ++i) ASSERT_EQ(w.data<float>()[i], 0.0f);
  const Tensor& b = g.param(g.value("conv.bias"));
  EXPECT_EQ(b.data<float>()[0], 0.5f);
  EXPECT_EQ(b.data<float>()[1], -1.0f);
  EXPECT_EQ(b.data<float>()[2], 0.1f);
  EXPECT_EQ(b.data<float>()[3], std::numeric_limits<float>::max());
  const Tensor& mask = g.param(g.value("onnx::Mask_7:"));
  EXPECT_EQ(mask.dtype(), DType::Bool);
  EXPECT_TRUE(mask.data<bool>()[0]);
  EXPECT_FALSE(mask.data<bool>()[1]);
  EXPECT_EQ(g.param(g.value("shape")).data<int64_t>()[0], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(g.param(g.value("empty")).numel(), 0u);
  EXPECT_EQ(g.param(g.value("s")).data<double>()[0], 0.1);
  EXPECT_EQ(g.param(g.value("small")).data<int8_t>()[0], -128);
  EXPECT_EQ(g.param(g.value("u")).data<uint8_t>()[1], 255);
  EXPECT_EQ(g.param(g.value("i")).data<int32_t>()[0], std::numeric_limits<int32_t>::min());

  const auto& nodes = g.nodes();
  ASSERT_EQ(nodes.size(), 9u);
  EXPECT_EQ(nodes[0]->name, "/features/features.0/Conv");
  EXPECT_EQ(nodes[1]->name, "Relu_1");  // unnamed: <op>_<index>
  const Node& pool = *nodes[2];
  ASSERT_EQ(pool.outputs.size(), 2u);
  EXPECT_EQ(pool.outputs[1]->name, "onnx::idx_1");
  EXPECT_EQ(pool.outputs[1]->type,
            TensorType(DType::I64, {Dim::sym("N"), Dim::known(4), Dim::sym("H out"), Dim::unknown()}));
  EXPECT_EQ(pool.outputs[1]->producer, &pool);
  EXPECT_EQ(pool.outputs[1]->producer_output, 1);

  const Node& k = *nodes[3];
  EXPECT_EQ(k.domain, "test");
  EXPECT_EQ(k.op, "AllKinds");
  ASSERT_EQ(k.inputs.size(), 4u);
  EXPECT_EQ(k.inputs[1], nullptr);
  EXPECT_EQ(k.inputs[3], nullptr);
  EXPECT_EQ(k.inputs[2], pool.outputs[0]);
  EXPECT_EQ(k.attr_float("alpha"), 1e-5f);
  EXPECT_EQ(attr_kind(k.attr("beta")), AttrKind::Float);
  EXPECT_EQ(k.attr_float("beta"), 3.0f);
  EXPECT_EQ(attr_kind(k.attr("empty_f")), AttrKind::Floats);
  EXPECT_EQ(attr_kind(k.attr("empty_i")), AttrKind::Ints);
  EXPECT_EQ(attr_kind(k.attr("empty_s")), AttrKind::Strings);
  const auto& f = k.attr_floats("f");
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1], 2.5f);
  EXPECT_EQ(f[2], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f[3]));
  EXPECT_EQ(k.attr_int("i"), -3);
  EXPECT_EQ(k.attr_ints("ints"), (std::vector<int64_t>{1, -2}));
  EXPECT_EQ(k.attr_string("s"), std::string("a \"q\"\n\\\t\x01"));
  EXPECT_EQ(std::get<std::vector<std::string>>(k.attr("ss")), (std::vector<std::string>{"x", ""}));
  const Tensor& t = k.attr_tensor("t");
  EXPECT_EQ(t.dims(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t.data<float>()[2], 3.5f);
  const Tensor& tbig = k.attr_tensor("tbig");
  EXPECT_EQ(tbig.dtype(), DType::I64);
  EXPECT_EQ(tbig.numel(), 20u);
  EXPECT_EQ(tbig.data<int64_t>()[19], 0);
  EXPECT_EQ(k.attr_tensor("tscalar").rank(), 0u);
  EXPECT_EQ(k.attr_tensor("tscalar").data<int32_t>()[0], 7);
  EXPECT_FALSE(k.attr_tensor("tundef").defined());
  EXPECT_EQ(k.attr_int("weird key"), 1);

  EXPECT_EQ(nodes[4]->domain, "fc");
  EXPECT_EQ(nodes[4]->name, "loss node");
  EXPECT_EQ(nodes[5]->domain, "com.microsoft");
  EXPECT_EQ(nodes[5]->op, "Gelu");
  EXPECT_EQ(nodes[6]->domain, "my domain");
  EXPECT_EQ(nodes[6]->op, "weird op");
  EXPECT_TRUE(nodes[7]->outputs.empty());
  EXPECT_EQ(nodes[8]->op, "param");
  EXPECT_EQ(nodes[8]->domain, "");
  ASSERT_EQ(g.state_updates.size(), 1u);
  EXPECT_EQ(g.state_updates[0].first, g.value("conv.bias"));
  EXPECT_EQ(g.state_updates[0].second, g.value("b2"));
  ASSERT_EQ(g.accumulations.size(), 1u);
  EXPECT_EQ(g.accumulations[0].first, g.value("acc"));
  EXPECT_EQ(g.accumulations[0].second, g.value("b2"));
}

TEST(TextFormat, CommentsAndLayoutAreIgnored) {
  const char* loose = R"(# leading comment
graph   g ( %x : f32 [ N , 2 ] )->( %y:f32[N,2] )   # trailing
  opset 17
{
  param %w : f32[ 2 ] = [ 1 , 2 ]   # a parameter
  %y: f32[N,2] = Add(%x,%w) { } @"add"
  # done
}
# after
)";
  std::string want =
      "graph g(%x: f32[N,2]) -> (%y: f32[N,2]) opset 17 {\n"
      "  param %w: f32[2] = [1, 2]\n"
      "  %y: f32[N,2] = Add(%x, %w) @add\n"
      "}\n";
  EXPECT_EQ(print_graph(parse(loose)), want);
}

TEST(TextFormat, GraphBuiltInCxxRoundTrips) {
  Graph g;
  g.name = "built";
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::known(3)}));
  g.inputs = {x};
  Value* w = g.add_param("layer1/weight", Tensor::from_vector<float>({3}, {0.1f, -2.0f, 1.0f / 3.0f}));
  Value* big = g.add_param("big", Tensor(DType::F32, {64, 3}));
  g.param_mut(big).data<float>()[5] = 7.0f;  // elided on print: reparses as zeros
  Value* c = g.add_value("c", TensorType(DType::F32, {Dim::known(3)}));
  g.add_node("Constant", {}, {c}, {{"value", Tensor::from_vector<float>({3}, {1, 2, 3})}});
  Value* a = g.add_value("a", TensorType(DType::F32, {Dim::sym("N"), Dim::known(3)}));
  g.add_node("Add", {x, w}, {a}, {{"k", int64_t{1}}, {"eps", 0.5f}}, "add one");
  Value* y = g.add_value("y", TensorType(DType::F32, {Dim::sym("N"), Dim::known(3)}));
  Node* relu = g.add_node("Relu", {a}, {y});
  relu->domain = "fc";
  g.outputs = {y};
  g.state_updates.emplace_back(big, c);

  std::string text = print_graph(g);
  EXPECT_EQ(text,
            "graph built(%x: f32[N,3]) -> (%y: f32[N,3]) opset 17 {\n"
            "  param %layer1/weight: f32[3] = [0.1, -2, 0.33333334]\n"
            "  param %big: f32[64,3]\n"
            "  %c: f32[3] = Constant() {value = tensor<f32[3]> [1, 2, 3]}\n"
            "  %a: f32[N,3] = Add(%x, %layer1/weight) {eps = 0.5, k = 1} @\"add one\"\n"
            "  %y: f32[N,3] = fc.Relu(%a)\n"
            "  update %big <- %c\n"
            "}\n");
  Graph back = parse(text);
  EXPECT_EQ(print_graph(back), text);
  EXPECT_EQ(back.nodes()[2]->name, relu->name);
  EXPECT_EQ(back.param(back.value("layer1/weight")).data<float>()[2], 1.0f / 3.0f);
  const Tensor& zeros = back.param(back.value("big"));
  EXPECT_EQ(zeros.dims(), (std::vector<int64_t>{64, 3}));
  EXPECT_EQ(zeros.data<float>()[5], 0.0f);

  // Everything elided when asked.
  std::string elided = print_graph(g, PrintOptions{.max_inline_elements = 0});
  EXPECT_NE(elided.find("param %layer1/weight: f32[3]\n"), std::string::npos);
  EXPECT_NE(elided.find("{value = tensor<f32[3]>}"), std::string::npos);
  EXPECT_EQ(print_graph(parse(elided), PrintOptions{.max_inline_elements = 0}), elided);
}

TEST(TextFormat, FloatsSurviveExactly) {
  // Values whose shortest decimal spelling is long or special; compared bit for bit.
  std::vector<float> v = {0.1f,
                          1.0f / 3.0f,
                          -0.0f,
                          std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::denorm_min(),
                          std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::lowest(),
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::nextafter(1.0f, 2.0f),
                          16777217.0f,
                          1e-5f,
                          123456.789f};
  std::mt19937 rng(1234);  // seed printed on failure via SCOPED_TRACE below
  SCOPED_TRACE("rng seed 1234");
  for (int i = 0; i < 200; ++i) {
    uint32_t u = rng();
    float f;
    std::memcpy(&f, &u, 4);
    if (!std::isnan(f)) v.push_back(f);
  }
  Graph g;
  Value* p = g.add_param("p", Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v));
  Value* y = g.add_value("y", p->type);
  g.add_node("Relu", {p}, {y}, {{"fs", v}, {"f", v[0]}});
  g.outputs = {y};
  PrintOptions all{.max_inline_elements = 1000};
  std::string text = print_graph(g, all);
  Graph back = parse(text);
  EXPECT_EQ(print_graph(back, all), text);
  const float* got = back.param(back.value("p")).data<float>();
  const auto& got_attr = back.nodes()[0]->attr_floats("fs");
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(bits(got[i]), bits(v[i])) << i << ": " << v[i];
    EXPECT_EQ(bits(got_attr[i]), bits(v[i])) << i << ": " << v[i];
  }
  // A float attribute that is integral still reads back as a float.
  EXPECT_EQ(attr_kind(back.nodes()[0]->attr("f")), AttrKind::Float);
}

TEST(TextFormat, NamesPrintBareOrQuoted) {
  struct Case {
    std::string name, spelled;
  };
  std::vector<Case> cases = {
      {"/features/features.0/Conv_output_0", "%/features/features.0/Conv_output_0"},
      {"onnx::Conv_123", "%onnx::Conv_123"},
      {"input.1", "%input.1"},
      {"0", "%0"},
      {"a-b", "%a-b"},
      {"ends:", "%\"ends:\""},
      {"a:b", "%\"a:b\""},
      {"a::b::c", "%a::b::c"},
      {"a:::b", "%\"a:::b\""},
      {"has space", "%\"has space\""},
      {"q\"b\\", "%\"q\\\"b\\\\\""},
      {"tab\tnl\n", "%\"tab\\tnl\\n\""},
      {"\xce\xbb", "%\"\xce\xbb\""},
      {"#x", "%\"#x\""},
  };
  for (const Case& c : cases) {
    Graph g;
    Value* x = g.add_value(c.name, TensorType(DType::F32, {Dim::known(1)}));
    g.inputs = {x};
    g.outputs = {x};
    std::string text = print_graph(g);
    EXPECT_EQ(text, "graph main(" + c.spelled + ": f32[1]) -> (" + c.spelled + ": f32[1]) opset 17 {\n}\n");
    Graph back = parse(text);
    ASSERT_EQ(back.inputs.size(), 1u);
    EXPECT_EQ(back.inputs[0]->name, c.name);
    EXPECT_EQ(back.outputs[0], back.inputs[0]);
  }
}

TEST(TextFormat, ErrorsNameFileLineAndColumn) {
  const std::string head = "graph g(%x: f32[2]) -> (%y: f32[2]) opset 17 {\n";
  expect_parse_error(head + "  %y: f32[2] = Relu(%z)\n}\n", "2:21", "use of undefined value %z");
  expect_parse_error(head + "  %x: f32[2] = Relu(%x)\n}\n", "2:3", "value %x is defined twice");
  expect_parse_error(head + "  %y: f32[2], %y: f32[2] = Split(%x)\n}\n", "2:15", "defined twice");
  expect_parse_error(head + "  param %x: f32[1]\n}\n", "2:9", "defined twice");
  expect_parse_error(head + "  %y: f33[2] = Relu(%x)\n}\n", "2:7", "unknown element type 'f33'");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x\n}\n", "3:1", "expected ',' or ')' between node inputs, got '}'");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x) {a = }\n}\n", "2:30", "expected an attribute value");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x) {a = []}\n}\n", "2:30", "empty list");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x) {a = 1, a = 2}\n}\n", "2:33", "given twice");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x) {a = [1, \"s\"]}\n}\n", "2:34", "expected a number");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x)\n", "3:1", "missing '}'");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x)\n}\n}\n", "4:1", "after the end of the graph");
  expect_parse_error(head + "}\n", "1:25", "graph output %y is never defined");
  expect_parse_error(head + "  %y: f32[3] = Relu(%x)\n}\n", "1:25", "declared f32[2] but defined f32[3]");
  expect_parse_error(head + "  param %w: f32[2] = [1]\n}\n", "2:22", "expected 2 values, got 1");
  expect_parse_error(head + "  param %w: f32[1] = [1, 2]\n}\n", "2:26", "too many values");
  expect_parse_error(head + "  param %w: u8[1] = [256]\n}\n", "2:22", "out of range for u8");
  expect_parse_error(head + "  param %w: f32[1] = [1e39]\n}\n", "2:23", "out of range for f32");
  expect_parse_error(head + "  param %w: bool[1] = [1]\n}\n", "2:24", "expected true or false");
  expect_parse_error(head + "  param %w: f32[N]\n}\n", "2:13", "fully known");
  expect_parse_error(head + "  param %w: f32[1000000,1000000]\n}\n", "2:13",
                     "larger than the parser's limit of 4294967296 bytes");
  // A caller parsing untrusted text may set a lower limit (the fuzz target does).
  auto limited = [&](const char* param) {
    try {
      parse_graph(head + param + "}\n", "t.ir", 1024);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(limited("  param %w: f32[256]\n"), "t.ir:1:25: graph output %y is never defined");  // past the param
  EXPECT_EQ(limited("  param %w: f32[257]\n"),
            "t.ir:2:13: tensor f32[257] is larger than the parser's limit of 1024 bytes");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x) {s = \"abc\n}\n", "2:30", "unterminated string");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x) {s = \"\\q\"}\n", "2:31", "unknown escape");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x) $\n}\n", "2:25", "unexpected '$'");
  expect_parse_error(head + "  %y: f32[2] = Relu(%x) {i = 99999999999999999999}\n}\n", "2:30", "out of range");
  expect_parse_error("graph g(%x: f32[-1]) -> () opset 17 {}", "1:17", "dimension -1 is negative");
  expect_parse_error("grph g() -> () opset 17 {}", "1:1", "expected 'graph'");
  expect_parse_error("", "1:1", "expected 'graph'");
  expect_parse_error("graph g() -> () opset 0 {}", "1:23", "opset 0 out of range");
}

TEST(TextFormat, GarbageNeverCrashes) {
  // Every prefix of a valid text, deep nesting, random bytes and random token soup: each either
  // parses or throws fc::Error (any other exception, or a crash, fails the test).
  std::string valid = kCanonical;
  auto try_parse = [](const std::string& text) {
    try {
      parse(text);
    } catch (const Error&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "non-fc::Error exception " << e.what() << " for:\n" << text;
    }
  };
  for (size_t n = 0; n < valid.size(); ++n) try_parse(valid.substr(0, n));
  try_parse(std::string(100000, '['));
  try_parse("graph g() -> () opset 17 {\n  %y: f32[1] = A() {a = " + std::string(100000, '[') + "}\n}");
  try_parse(std::string(100000, '('));
  try_parse(std::string("graph g\0() -> () opset 17 {}", 28));
  std::mt19937 rng(42);
  SCOPED_TRACE("rng seed 42");
  const std::vector<std::string> soup = {"graph", "g",  "(",     ")",      "->", "opset",  "17", "{", "}",
                                         "%x",    "%y", ":",     "f32",    "[",  "]",      ",",  "=", "Relu",
                                         "_",     "@n", "param", "update", "<-", "tensor", "<",  ">", "\"s\"",
                                         "1.5",   "-3", "ints",  "?",      "N",  "."};
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    int len = static_cast<int>(rng() % 40);
    for (int k = 0; k < len; ++k) text += soup[rng() % soup.size()] + " ";
    try_parse(text);
    // Mutate a valid text at a random byte.
    std::string m = valid;
    m[rng() % m.size()] = static_cast<char>(rng() % 256);
    try_parse(m);
  }
}
