// Plan files (frontend/plan_io.h): save -> load gives back the training graph exactly (its text form
// with every value printed, node by node, every parameter bit), the inference graph import_onnx
// gives and the metadata; the python onnx package reads the container as documented (domains,
// update_binding, only non-shared initializers in the algorithm); external data is inlined; a plan
// rewritten by another tool still loads; the trained-model export from a plan is the plain model.
// Fixtures in plan_io_test_util.h.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include <unistd.h>

#include "frontend/onnx_export.h"
#include "frontend/onnx_import.h"
#include "frontend/plan_io.h"
#include "ir/hyperparams.h"
#include "ir/op_registry.h"
#include "ir/text_format.h"
#include "passes/training_graph.h"
#include "error_of.h"
#include "plan_io_test_util.h"

using namespace fc;
using namespace fc::ir;
namespace fs = std::filesystem;
using namespace fc::test::plan_io;

namespace {

// One "key value..." line of the inspect output.
std::string field(const std::string& report, const std::string& key) {
  std::istringstream in(report);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + " ", 0) == 0) return line.substr(key.size() + 1);
    if (line == key) return "";
  }
  ADD_FAILURE() << "no '" << key << "' in:\n" << report;
  return "";
}

using fc::test::error_of;

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.dims() == b.dims() && a.nbytes() == b.nbytes() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

bool same_attr(const Attribute& a, const Attribute& b) {
  if (a.index() != b.index()) return false;
  if (auto* f = std::get_if<float>(&a)) return std::memcmp(f, &std::get<float>(b), sizeof(float)) == 0;
  if (auto* fs = std::get_if<std::vector<float>>(&a)) {
    const auto& gs = std::get<std::vector<float>>(b);
    return fs->size() == gs.size() && (fs->empty() || std::memcmp(fs->data(), gs.data(), fs->size() * 4) == 0);
  }
  if (auto* t = std::get_if<Tensor>(&a)) return same_bits(*t, std::get<Tensor>(b));
  return std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Tensor>) return false;  // handled above
        else return v == std::get<T>(b);
      },
      a);
}

std::string names(const std::vector<Value*>& vs) {
  std::string s;
  for (const Value* v : vs) s += (v ? v->name + ":" + to_string(v->type) : std::string("_")) + " ";
  return s;
}

void expect_same_graph(const Graph& a, const Graph& b) {
  PrintOptions all;
  all.max_inline_elements = size_t{1} << 20;  // every value, so the text comparison covers them
  EXPECT_EQ(print_graph(a, all), print_graph(b, all));
  EXPECT_FALSE(print_graph(a).empty());
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.opset, b.opset);
  EXPECT_EQ(names(a.inputs), names(b.inputs));
  EXPECT_EQ(names(a.outputs), names(b.outputs));
  EXPECT_EQ(names(a.param_order()), names(b.param_order()));
  for (size_t i = 0; i < std::min(a.param_order().size(), b.param_order().size()); ++i)
    EXPECT_TRUE(same_bits(a.param(a.param_order()[i]), b.param(b.param_order()[i]))) << a.param_order()[i]->name;
  ASSERT_EQ(a.nodes().size(), b.nodes().size());
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const Node& x = *a.nodes()[i];
    const Node& y = *b.nodes()[i];
    EXPECT_EQ(x.op, y.op) << i;
    EXPECT_EQ(x.domain, y.domain) << x.name;
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(names(x.inputs), names(y.inputs)) << x.name;
    EXPECT_EQ(names(x.outputs), names(y.outputs)) << x.name;
    ASSERT_EQ(x.attrs.size(), y.attrs.size()) << x.name;
    for (const auto& [k, v] : x.attrs) {
      ASSERT_TRUE(y.attrs.count(k)) << x.name << " " << k;
      EXPECT_TRUE(same_attr(v, y.attrs.at(k))) << x.name << " attribute " << k;
    }
  }
  ASSERT_EQ(a.state_updates.size(), b.state_updates.size());
  for (size_t i = 0; i < a.state_updates.size(); ++i) {
    EXPECT_EQ(a.state_updates[i].first->name, b.state_updates[i].first->name);
    EXPECT_EQ(a.state_updates[i].second->name, b.state_updates[i].second->name);
  }
  ASSERT_EQ(a.accumulations.size(), b.accumulations.size());
  for (size_t i = 0; i < a.accumulations.size(); ++i) {
    EXPECT_EQ(a.accumulations[i].first->name, b.accumulations[i].first->name);
    EXPECT_EQ(a.accumulations[i].second->name, b.accumulations[i].second->name);
  }
}

void expect_same_meta(const frontend::PlanMeta& a, const frontend::PlanMeta& b) {
  EXPECT_EQ(a.recipe_text, b.recipe_text);
  EXPECT_EQ(a.recipe_path, b.recipe_path);
  EXPECT_EQ(a.overrides, b.overrides);
  EXPECT_EQ(a.data_input, b.data_input);
  EXPECT_EQ(a.labels_input, b.labels_input);
  EXPECT_EQ(a.loss_output, b.loss_output);
  EXPECT_EQ(a.model_output, b.model_output);
}

std::string plan_path(const std::string& name) { return (work_dir() / "plans" / name).string(); }

// Saves, loads and checks everything that must survive; returns the plan's path.
std::string round_trip(const std::string& onnx_path, const std::string& plan_name) {
  Training t = training_graph(onnx_path);
  std::string path = plan_path(plan_name);
  frontend::save_plan(path, onnx_path, t.g, t.meta);
  frontend::Plan p = frontend::load_plan(path);
  expect_same_graph(t.g, p.train);
  expect_same_meta(t.meta, p.meta);
  expect_same_graph(frontend::import_onnx(onnx_path), p.inference);
  EXPECT_EQ(p.hash.size(), 16u);
  EXPECT_EQ(p.hash.find_first_not_of("0123456789abcdef"), std::string::npos) << p.hash;
  EXPECT_TRUE(frontend::is_plan_file(path));
  EXPECT_FALSE(frontend::is_plan_file(onnx_path));

  // The container as another reader sees it: only non-shared parameters are algorithm
  // initializers, every update value is an algorithm output, the project domains are imported.
  std::string report = run_python(kToolScript, {"inspect", path});
  std::set<std::string> main_inits;
  {
    std::istringstream in(field(report, "main_inits"));
    for (std::string n; in >> n;) main_inits.insert(n);
  }
  std::set<std::string> own;
  for (const Value* v : t.g.param_order())
    if (!main_inits.count(v->name)) own.insert(v->name);
  std::string own_text;
  for (const std::string& n : own) own_text += (own_text.empty() ? "" : " ") + n;
  EXPECT_EQ(field(report, "alg_inits"), own_text);
  EXPECT_EQ(field(report, "training_infos"), "1");
  EXPECT_EQ(field(report, "external"), "0");
  std::string domains = field(report, "alg_domains");
  EXPECT_TRUE(domains == "ai.fcc" || domains == "ai.fcc ai.fcc.onnx") << domains;
  EXPECT_NE(field(report, "opsets").find("ai.fcc.onnx:1 ai.fcc:1"), std::string::npos) << report;
  std::string outputs = " " + field(report, "alg_outputs") + " ";
  std::string bindings;
  for (const auto& [param, next] : t.g.state_updates) {
    bindings += (bindings.empty() ? "" : " ") + param->name + "=" + next->name;
    EXPECT_NE(outputs.find(" " + next->name + " "), std::string::npos) << next->name << " not an output";
  }
  EXPECT_EQ(field(report, "bindings"), bindings);
  for (const char* key : {"fc.hash", "fc.plan_version", "fc.recipe", "fc.overrides", "fc.io.data_input"})
    EXPECT_NE((" " + field(report, "meta") + " ").find(std::string(" ") + key + " "), std::string::npos) << key;
  return path;
}

TEST(PlanIo, MlpRoundTrip) { round_trip(model("mlp.onnx"), "mlp.fcplan"); }

TEST(PlanIo, ConvBatchNormRoundTrip) {
  std::string path = round_trip(model("convbn.onnx"), "convbn.fcplan");
  frontend::Plan p = frontend::load_plan(path);
  // The BatchNorm running statistics are state whichever way the training graph was built.
  bool mean_updated = false;
  for (const auto& [param, next] : p.train.state_updates) mean_updated |= param->name == "mean";
  EXPECT_TRUE(mean_updated || p.train.find_value("mean/next"));
}

// The training graph exactly as the CLI makes it (no stand-in): training-form ops, the loss, optimizer
// updates with zero momentum buffers, runtime inputs fc.hyper and fc.rng.
TEST(PlanIo, BuiltTrainingGraphRoundTrip) {
  std::string src = model("bn_dropout.onnx");
  Graph g = frontend::import_onnx(src);
  passes::TrainingGraphInfo info = passes::build_training_graph(g, {});
  frontend::PlanMeta meta{"[model]\n", "r.toml", {}, info.data_input, info.labels_input, info.loss_output,
                          info.model_output};
  std::string path = plan_path("bn_dropout.fcplan");
  frontend::save_plan(path, src, g, meta);
  frontend::Plan p = frontend::load_plan(path);
  expect_same_graph(g, p.train);
  expect_same_meta(meta, p.meta);
  expect_same_graph(frontend::import_onnx(src), p.inference);
  std::set<std::string> fc_ops;
  for (const auto& n : p.train.nodes())
    if (n->domain == "fc") fc_ops.insert(n->op);
  // (The SGD updates of each allreduce bucket are one fc.HorizontalFused node; the loss and its
  // gradient one fc.SoftmaxCrossEntropyAndGrad.)
  for (const char* op : {"BatchNormTraining", "DropoutTraining", "SoftmaxCrossEntropyAndGrad", "HorizontalFused"})
    EXPECT_TRUE(fc_ops.count(op)) << op;
  EXPECT_TRUE(p.train.find_value(kRngInputName));
  EXPECT_FALSE(p.train.state_updates.empty());
}

// Gradient accumulation ([train] micro_batch_size): one zero accumulator per trained parameter,
// each read by the step through its sum, survives the plan.
TEST(PlanIo, AccumulatingTrainingGraphRoundTrip) {
  std::string src = model("bn_dropout.onnx");
  Graph g = frontend::import_onnx(src);
  passes::TrainingConfig config;
  config.accumulate = true;
  passes::TrainingGraphInfo info = passes::build_training_graph(g, config);
  ASSERT_EQ(g.accumulations.size(), info.trainable.size());
  frontend::PlanMeta meta{"[model]\n", "r.toml", {}, info.data_input, info.labels_input, info.loss_output,
                          info.model_output};
  std::string path = plan_path("bn_dropout_accumulating.fcplan");
  frontend::save_plan(path, src, g, meta);
  frontend::Plan p = frontend::load_plan(path);
  expect_same_graph(g, p.train);
  for (const auto& [acc, sum] : p.train.accumulations) {
    EXPECT_TRUE(p.train.is_param(acc)) << acc->name;
    EXPECT_EQ(p.train.param(acc).dims(), acc->type.sizes()) << acc->name;
  }
}

TEST(PlanIo, SavingIsDeterministic) {
  Training t = training_graph(model("mlp.onnx"));
  frontend::save_plan(plan_path("a.fcplan"), model("mlp.onnx"), t.g, t.meta);
  frontend::save_plan(plan_path("b.fcplan"), model("mlp.onnx"), t.g, t.meta);
  std::string a = read_bytes(plan_path("a.fcplan"));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, read_bytes(plan_path("b.fcplan")));
  EXPECT_FALSE(fs::exists(plan_path("a.fcplan.tmp." + std::to_string(::getpid()))));
}

// A parameter whose value differs from the main graph's initializer of the same name (changed by a
// pass) is stored in the plan; the inference graph keeps the model's own value.
TEST(PlanIo, ChangedParameterIsStoredNotShared) {
  Training t = training_graph(model("mlp.onnx"));
  Value* w2 = t.g.value("w2");
  Tensor changed = t.g.param(w2).clone();
  changed.data<float>()[5] = 1234.5f;
  t.g.set_param(w2, changed);
  std::string path = plan_path("changed.fcplan");
  frontend::save_plan(path, model("mlp.onnx"), t.g, t.meta);
  frontend::Plan p = frontend::load_plan(path);
  expect_same_graph(t.g, p.train);
  EXPECT_EQ(p.train.param(p.train.value("w2")).data<float>()[5], 1234.5f);
  EXPECT_NE(p.inference.param(p.inference.value("w2")).data<float>()[5], 1234.5f);
  EXPECT_NE((" " + field(run_python(kToolScript, {"inspect", path}), "alg_inits") + " ").find(" w2 "),
            std::string::npos);
}

// Every attribute kind and value-type form the IR has, on a graph built by hand (the plan does not
// consult the op registry).
TEST(PlanIo, EveryAttributeKindAndTypeFormRoundTrips) {
  Graph g;
  g.name = "kinds";
  g.opset = 13;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::unknown(), Dim::known(3)}));
  g.inputs.push_back(x);
  g.add_param("f64", Tensor::from_vector<double>({2}, {0.1, -1e300}));
  g.add_param("i32", Tensor::from_vector<int32_t>({3}, {-1, 0, 7}));
  g.add_param("i8", Tensor::from_vector<int8_t>({2}, {-128, 127}));
  g.add_param("u8", Tensor::from_vector<uint8_t>({1, 2}, {0, 255}));
  Tensor bools(DType::Bool, {3});
  bools.data<bool>()[0] = bools.data<bool>()[2] = true;
  g.add_param("bool", bools);
  g.add_param("scalar", Tensor::scalar<float>(-0.0f));
  g.add_param("empty", Tensor(DType::F32, {0, 3}));
  Value* buf = g.add_param("name with spaces/and:colons", Tensor::from_vector<int64_t>({2}, {INT64_MIN, INT64_MAX}));
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::map<std::string, Attribute> attrs = {
      {"i", int64_t{-5}},
      {"f_nan", nan},
      {"f_neg_zero", -0.0f},
      {"f_inf", -inf},
      {"f_denormal", 1e-45f},
      {"s", std::string("line\nbreak \x01\"q\"")},
      {"s_empty", std::string()},
      {"ints", std::vector<int64_t>{1, -1, INT64_MAX}},
      {"ints_empty", std::vector<int64_t>{}},
      {"floats", std::vector<float>{1.5f, -0.0f, nan}},
      {"floats_empty", std::vector<float>{}},
      {"t", Tensor::from_vector<double>({2, 2}, {1, 2, 3, 4})},
      {"t_bool", bools.reshaped({3, 1})},
      {"t_scalar", Tensor::scalar<int64_t>(42)},
      {"t_empty", Tensor(DType::I32, {0})},
      {"strings", std::vector<std::string>{"a", "", "b\n"}},
      {"strings_empty", std::vector<std::string>{}},
  };
  Value* y = g.add_value("y", x->type);
  g.add_node("Identity", {x}, {y}, attrs, "id");
  Value* z = g.add_value("z", TensorType(DType::F32, {}));
  Value* u = g.add_value("u", TensorType(DType::I64, {Dim::known(0)}));
  Node* n = g.add_node("Custom", {y, nullptr, buf, nullptr}, {z, u}, {}, "");  // unnamed: "Custom_1"
  n->domain = "fc";
  Value* w = g.add_value("w", TensorType(DType::I64, {Dim::known(2)}));
  g.add_node("Neg", {buf}, {w}, {}, "neg");
  g.outputs = {z, x, g.value("f64"), w};
  g.state_updates.emplace_back(buf, w);  // w is both an output of its own and an update value
  g.state_updates.emplace_back(g.value("i32"), g.value("i32"));  // a parameter as update value

  frontend::PlanMeta meta;  // all empty: still present and round-tripped
  std::string path = plan_path("kinds.fcplan");
  frontend::save_plan(path, model("mlp.onnx"), g, meta);
  frontend::Plan p = frontend::load_plan(path);
  expect_same_graph(g, p.train);
  expect_same_meta(meta, p.meta);
  EXPECT_EQ(p.train.nodes().at(1)->name, "Custom_1");
}

TEST(PlanIo, ExternalDataIsInlinedAndIrVersionRestored) {
  // Copy the model with its data into a folder of its own, save, then remove the data file.
  fs::path dir = work_dir() / "ext_copy";
  fs::create_directories(dir);
  fs::copy_file(work_dir() / "ext" / "mlp_ext.onnx", dir / "mlp_ext.onnx", fs::copy_options::overwrite_existing);
  fs::copy_file(work_dir() / "ext" / "w1.bin", dir / "w1.bin", fs::copy_options::overwrite_existing);
  std::string source = (dir / "mlp_ext.onnx").string();
  Graph imported = frontend::import_onnx(source);
  std::string path = round_trip(source, "ext.fcplan");
  fs::remove(dir / "w1.bin");
  frontend::Plan p = frontend::load_plan(path);
  EXPECT_TRUE(same_bits(imported.param(imported.value("w1")), p.inference.param(p.inference.value("w1"))));
  EXPECT_TRUE(same_bits(imported.param(imported.value("w1")), p.train.param(p.train.value("w1"))));
  std::string report = run_python(kToolScript, {"inspect", path});
  EXPECT_EQ(field(report, "ir_version"), "7");  // training_info needs IR 7

  // The export from the plan is the user's model again: IR 6, no training info, no fc metadata.
  std::string out = (work_dir() / "exported_ext.onnx").string();
  frontend::export_trained_onnx(path, {}, out);
  report = run_python(kToolScript, {"inspect", out});
  EXPECT_EQ(field(report, "ir_version"), "6");
  EXPECT_EQ(field(report, "training_infos"), "0");
  EXPECT_EQ(field(report, "meta"), "");
  EXPECT_EQ(field(report, "opsets"), ":11");
  EXPECT_EQ(field(run_python(kToolScript, {"check", out}), "checked"), "");
}

TEST(PlanIo, ExportFromPlanIsThePlainTrainedModel) {
  std::string path = round_trip(model("convbn.onnx"), "export.fcplan");
  frontend::Plan p = frontend::load_plan(path);
  Tensor trained = p.train.param(p.train.value("w")).clone();
  for (size_t i = 0; i < trained.numel(); ++i) trained.data<float>()[i] = static_cast<float>(i) * 0.5f;
  std::string out = (work_dir() / "exported.onnx").string();
  frontend::export_trained_onnx(path, {{"w", trained}}, out);
  EXPECT_EQ(field(run_python(kToolScript, {"check", out}), "checked"), "");
  std::string report = run_python(kToolScript, {"inspect", out});
  EXPECT_EQ(field(report, "training_infos"), "0");
  EXPECT_EQ(field(report, "meta"), "");
  EXPECT_EQ(field(report, "opsets"), ":13");
  EXPECT_FALSE(frontend::is_plan_file(out));
  Graph back = frontend::import_onnx(out);
  EXPECT_TRUE(same_bits(back.param(back.value("w")), trained));
  EXPECT_TRUE(same_bits(back.param(back.value("cw")), p.inference.param(p.inference.value("cw"))));
}

// A plan rewritten by a tool that keeps its content (the hash record moves) still loads.
TEST(PlanIo, PlanResavedByOnnxStillLoads) {
  Training t = training_graph(model("mlp.onnx"));
  std::string path = plan_path("resave_src.fcplan"), resaved = plan_path("resaved.fcplan");
  frontend::save_plan(path, model("mlp.onnx"), t.g, t.meta);
  run_python(kToolScript, {"resave", path, resaved});
  EXPECT_NE(read_bytes(path), read_bytes(resaved));  // the record moved: the slow path is exercised
  frontend::Plan p = frontend::load_plan(resaved);
  expect_same_graph(t.g, p.train);
  EXPECT_EQ(p.hash, frontend::load_plan(path).hash);
}

}  // namespace
