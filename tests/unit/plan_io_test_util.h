// The plan-file tests' fixtures (plan_io_test.cpp, plan_io_errors_test.cpp): models generated with
// /usr/bin/python3 + onnx.helper into this process's scratch folder, the python onnx tool that reads
// plans back, and a training graph (built, or hand-made where a gradient rule is missing).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "frontend/onnx_import.h"
#include "frontend/plan_io.h"
#include "ir/hyperparams.h"
#include "passes/training_graph.h"
#include "support/error.h"

namespace fc::test::plan_io {

namespace fs = std::filesystem;
using namespace fc::ir;

inline const char* kModelsScript = R"PY(
import os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
out = sys.argv[1]
rng = np.random.default_rng(7)
def f32(*shape): return rng.standard_normal(shape).astype(np.float32)
def vi(name, dims): return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)
def mlp(opset):
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], name="fc2", transB=1)]
    inits = [numpy_helper.from_array(a, n) for n, a in
             (("w1", f32(8, 4)), ("b1", f32(8)), ("w2", f32(3, 8)), ("b2", f32(3)))]
    g = helper.make_graph(nodes, "mlp", [vi("x", ["batch", 4])], [vi("y", ["batch", 3])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="plan-test")
m = mlp(13)
onnx.checker.check_model(m)
onnx.save(m, os.path.join(out, "mlp.onnx"))

# Conv -> BatchNormalization -> Relu -> Flatten -> Gemm: BatchNorm running statistics are state.
nodes = [helper.make_node("Conv", ["x", "cw", "cb"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("BatchNormalization", ["c", "s", "bb", "mean", "var"], ["n"], name="bn", epsilon=1e-5),
         helper.make_node("Relu", ["n"], ["r"], name="relu"),
         helper.make_node("Flatten", ["r"], ["f"], name="flatten", axis=1),
         helper.make_node("Gemm", ["f", "w", "b"], ["y"], name="fc", transB=1)]
inits = [numpy_helper.from_array(a, n) for n, a in
         (("cw", f32(2, 1, 3, 3)), ("cb", f32(2)), ("s", f32(2)), ("bb", f32(2)), ("mean", f32(2)),
          ("var", np.abs(f32(2)) + 0.5), ("w", f32(3, 32)), ("b", f32(3)))]
g = helper.make_graph(nodes, "convbn", [vi("x", ["N", 1, 4, 4])], [vi("y", ["N", 3])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(m)
onnx.save(m, os.path.join(out, "convbn.onnx"))

# BatchNormalization -> Dropout: every op here has a gradient rule already, so build_training_graph
# itself makes the training graph (fc.BatchNormTraining, fc.DropoutTraining, loss, updates).
nodes = [helper.make_node("BatchNormalization", ["x", "s", "bb", "mean", "var"], ["n"], name="bn", epsilon=1e-3),
         helper.make_node("Dropout", ["n"], ["y"], name="drop")]
inits = [numpy_helper.from_array(a, n) for n, a in
         (("s", f32(3)), ("bb", f32(3)), ("mean", f32(3)), ("var", np.abs(f32(3)) + 0.5))]
g = helper.make_graph(nodes, "bnonly", [vi("x", ["N", 3])], [vi("y", ["N", 3])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(m)
onnx.save(m, os.path.join(out, "bn_dropout.onnx"))

# The MLP at IR version 6 with w1 as external data (8 bytes into w1.bin).
m = mlp(11)
m.ir_version = 6
w1 = m.graph.initializer[0]
data = numpy_helper.to_array(w1).tobytes()
w1.ClearField("raw_data")
w1.data_location = TensorProto.EXTERNAL
for k, v in (("location", "w1.bin"), ("offset", "8"), ("length", str(len(data)))):
    e = w1.external_data.add()
    e.key, e.value = k, v
os.makedirs(os.path.join(out, "ext"), exist_ok=True)
with open(os.path.join(out, "ext", "w1.bin"), "wb") as f:
    f.write(b"\0" * 8 + data)
with open(os.path.join(out, "ext", "mlp_ext.onnx"), "wb") as f:
    f.write(m.SerializeToString())
)PY";

// Reads a plan or model with the onnx package and prints what the tests compare; also rewrites
// plans: "resave IN OUT", "setmeta IN OUT KEY VALUE|-" (with the fc.hash recomputed, as a tool
// that knows the format would).
inline const char* kToolScript = R"PY(
import sys
import onnx
def fnv(b):
    h = 14695981039346656037
    for c in b:
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h
cmd, path = sys.argv[1], sys.argv[2]
m = onnx.load(path)
if cmd == "inspect":
    print("ir_version", m.ir_version)
    print("opsets", " ".join(sorted("%s:%d" % (o.domain, o.version) for o in m.opset_import)))
    print("meta", " ".join(sorted(e.key for e in m.metadata_props)))
    print("main_inits", " ".join(sorted(t.name for t in m.graph.initializer)))
    print("external", sum(1 for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL))
    print("training_infos", len(m.training_info))
    if m.training_info:
        a = m.training_info[0].algorithm
        print("alg_inits", " ".join(sorted(t.name for t in a.initializer)))
        print("alg_domains", " ".join(sorted(set(n.domain for n in a.node))))
        print("alg_outputs", " ".join(o.name for o in a.output))
        print("bindings", " ".join("%s=%s" % (b.key, b.value) for b in m.training_info[0].update_binding))
elif cmd == "check":
    onnx.checker.check_model(m)
    print("checked")
elif cmd == "resave":
    onnx.save(m, sys.argv[3])
elif cmd == "setmeta":
    key, value = sys.argv[4], sys.argv[5]
    props = [(e.key, e.value) for e in m.metadata_props if e.key not in (key, "fc.hash")]
    if value != "-":
        props.append((key, value))
    del m.metadata_props[:]
    for k, v in props:
        m.metadata_props.add(key=k, value=v)
    m.metadata_props.add(key="fc.hash", value=fnv(m.SerializeToString()))
    onnx.save(m, sys.argv[3])
)PY";

// This process's scratch folder, removed at exit.
struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("fc_plan_test." + std::to_string(::getpid()));
  ScratchDir() {
    fs::remove_all(path);
    fs::create_directories(path / "py");
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
inline const fs::path& scratch() {
  static const ScratchDir dir;
  return dir.path;
}

// Runs a python script with arguments; returns its stdout (the test fails on a non-zero exit).
inline std::string run_python(const std::string& script_text, const std::vector<std::string>& args) {
  const fs::path dir = scratch() / "py";
  fs::path script = dir / (std::to_string(std::hash<std::string>{}(script_text)) + ".py");
  if (!fs::exists(script)) std::ofstream(script) << script_text;
  std::string cmd = "/usr/bin/python3 '" + script.string() + "'";
  for (const std::string& a : args) cmd += " '" + a + "'";
  fs::path log = dir / "out.txt";
  cmd += " > '" + log.string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(log);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  return out;
}

// The folder with the generated models and room for plans (one per test process).
inline const fs::path& work_dir() {
  static const fs::path dir = [] {
    fs::path d = scratch() / "work";
    fs::create_directories(d);
    run_python(kModelsScript, {d.string()});
    return d;
  }();
  return dir;
}
inline std::string model(const std::string& name) { return (work_dir() / name).string(); }

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A stand-in for build_training_graph while gradient rules are missing: an fc.SGDUpdate per float
// parameter (the parameter itself standing in for its gradient), momentum buffers with non-zero
// contents, the first parameter without one (an omitted optional input), every update as state.
inline void make_training_like(Graph& g, frontend::PlanMeta& meta) {
  Value* hyper = g.add_value(kHyperInputName, TensorType(DType::F32, {Dim::known(kHyperSize)}));
  Value* labels = g.add_value("labels", TensorType(DType::I64, {g.outputs.at(0)->type.dims.at(0)}));
  std::vector<Value*> params = g.param_order();
  bool first = true;
  for (Value* p : params) {
    if (p->type.dtype != DType::F32) continue;
    Value* next = g.add_value(p->name + "/next", p->type);
    if (first) {
      Node* n = g.add_node("SGDUpdate", {p, p, hyper}, {next}, {{"nesterov", int64_t{0}}}, p->name + "/sgd");
      n->domain = "fc";
    } else {
      Tensor buf(DType::F32, g.param(p).dims());
      for (size_t i = 0; i < buf.numel(); ++i) buf.data<float>()[i] = 0.25f * static_cast<float>(i) - 1.0f;
      Value* b = g.add_param(p->name + ".momentum_buffer", buf);
      Value* b_next = g.add_value(b->name + "/next", p->type);
      Node* n = g.add_node("SGDUpdate", {p, p, hyper, b}, {next, b_next}, {{"nesterov", int64_t{1}}}, p->name + "/sgd");
      n->domain = "fc";
      g.state_updates.emplace_back(b, b_next);
    }
    g.state_updates.emplace_back(p, next);
    first = false;
  }
  g.inputs.push_back(labels);
  g.inputs.push_back(hyper);
  meta.labels_input = labels->name;
  meta.model_output = g.outputs.at(0)->name;
  meta.data_input = g.inputs.at(0)->name;
}

struct Training {
  Graph g;
  frontend::PlanMeta meta;
};

inline Training training_graph(const std::string& onnx_path) {
  Training t;
  t.meta.recipe_text = "[model]\npath = \"model.onnx\"\n\n[optimizer]\nname = \"sgd\"  # \"quoted\"\n";
  t.meta.recipe_path = "/recipes/train.toml";
  t.meta.overrides = {"optimizer.lr=0.05", "batch.size=64"};
  t.g = frontend::import_onnx(onnx_path);
  try {
    passes::TrainingGraphInfo info = passes::build_training_graph(t.g, {});
    t.meta.data_input = info.data_input;
    t.meta.labels_input = info.labels_input;
    t.meta.loss_output = info.loss_output;
    t.meta.model_output = info.model_output;
  } catch (const Error& e) {
    std::cout << "[ note ] build_training_graph failed (" << e.what() << "); using a hand-built training graph\n";
    t.g = frontend::import_onnx(onnx_path);
    make_training_like(t.g, t.meta);
  }
  return t;
}

}  // namespace fc::test::plan_io
