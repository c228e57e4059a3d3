// Plan files (frontend/plan_io.h) that cannot be read or written: corrupt, truncated, foreign and
// wrong-version files, and unwritable destinations, are one-line errors naming the file.
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

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

using fc::test::error_of;

std::string plan_path(const std::string& name) { return (work_dir() / "plans" / name).string(); }

void expect_one_line_error(const std::string& msg, const std::string& path, const std::string& what) {
  EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(PlanIo, FlippedByteIsReportedAsCorrupt) {
  Training t = training_graph(model("mlp.onnx"));
  std::string path = plan_path("flip.fcplan");
  frontend::save_plan(path, model("mlp.onnx"), t.g, t.meta);
  std::string bytes = read_bytes(path);
  const Tensor& w2 = t.g.param(t.g.value("w2"));
  std::string w2_bytes(static_cast<const char*>(w2.raw()), w2.nbytes());
  size_t at = bytes.find(w2_bytes);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(bytes.find(w2_bytes, at + 1), std::string::npos);  // the weights are stored once
  bytes[at + 5] ^= 0x10;
  write_bytes(path, bytes);
  expect_one_line_error(error_of([&] { frontend::load_plan(path); }), path, "plan is corrupt");
  EXPECT_TRUE(frontend::is_plan_file(path));  // still looks like a plan; only loading checks
}

TEST(PlanIo, BadFilesAreOneLineErrorsNamingTheFile) {
  Training t = training_graph(model("mlp.onnx"));
  std::string good = plan_path("good.fcplan");
  frontend::save_plan(good, model("mlp.onnx"), t.g, t.meta);
  std::string bytes = read_bytes(good);

  std::string truncated = plan_path("truncated.fcplan");
  write_bytes(truncated, bytes.substr(0, bytes.size() / 2));
  expect_one_line_error(error_of([&] { frontend::load_plan(truncated); }), truncated, "not a valid plan");

  std::string text = plan_path("recipe.toml");
  write_bytes(text, "[model]\npath = \"x.onnx\"\n");
  expect_one_line_error(error_of([&] { frontend::load_plan(text); }), text, "not a valid plan");
  EXPECT_FALSE(frontend::is_plan_file(text));

  std::string empty = plan_path("empty.fcplan");
  write_bytes(empty, "");
  expect_one_line_error(error_of([&] { frontend::load_plan(empty); }), empty, "empty");
  EXPECT_FALSE(frontend::is_plan_file(empty));

  std::string missing = plan_path("missing.fcplan");
  expect_one_line_error(error_of([&] { frontend::load_plan(missing); }), missing, "cannot open");
  EXPECT_FALSE(frontend::is_plan_file(missing));
  EXPECT_FALSE(frontend::is_plan_file(work_dir().string()));

  // A plain ONNX model: no plan metadata.
  expect_one_line_error(error_of([&] { frontend::load_plan(model("mlp.onnx")); }), model("mlp.onnx"),
                        "fc.plan_version");

  // Another format version (the hash recomputed, so only the version is wrong): an older plan.
  std::string v1 = plan_path("v1.fcplan");
  run_python(kToolScript, {"setmeta", good, v1, "fc.plan_version", "1"});
  expect_one_line_error(error_of([&] { frontend::load_plan(v1); }), v1, "version '1' is not supported");
  EXPECT_TRUE(frontend::is_plan_file(v1));

  // Required metadata missing (hash consistent).
  std::string no_params = plan_path("no_params.fcplan");
  run_python(kToolScript, {"setmeta", good, no_params, "fc.train.params", "-"});
  expect_one_line_error(error_of([&] { frontend::load_plan(no_params); }), no_params, "fc.train.params");
  std::string no_recipe = plan_path("no_recipe.fcplan");
  run_python(kToolScript, {"setmeta", good, no_recipe, "fc.recipe", "-"});
  expect_one_line_error(error_of([&] { frontend::load_plan(no_recipe); }), no_recipe, "fc.recipe");

  // Metadata edited without updating the hash.
  std::string edited = plan_path("edited.fcplan");
  std::string key = "fc.recipe_path", old_value = t.meta.recipe_path;
  std::string changed = bytes;
  size_t at = changed.find(old_value);
  ASSERT_NE(at, std::string::npos);
  changed[at + 1] = 'X';
  write_bytes(edited, changed);
  expect_one_line_error(error_of([&] { frontend::load_plan(edited); }), edited, "plan is corrupt");
}

TEST(PlanIo, SaveErrorsNameTheFile) {
  Training t = training_graph(model("mlp.onnx"));
  std::string not_onnx = plan_path("not_onnx.onnx");
  write_bytes(not_onnx, "hello");
  std::string msg = error_of([&] { frontend::save_plan(plan_path("x.fcplan"), not_onnx, t.g, t.meta); });
  EXPECT_EQ(msg.rfind(not_onnx + ": ", 0), 0u) << msg;
  EXPECT_FALSE(fs::exists(plan_path("x.fcplan")));

  frontend::PlanMeta bad = t.meta;
  bad.overrides = {"a=1\nb=2"};
  std::string out = plan_path("bad_override.fcplan");
  expect_one_line_error(error_of([&] { frontend::save_plan(out, model("mlp.onnx"), t.g, bad); }), out, "override");
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
