// Trained ONNX export (see onnx_export.h). Works on the user's own ModelProto so that everything
// we do not touch (names, doc strings, metadata, opset imports, value_info) survives unchanged.
#include "frontend/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "frontend/onnx_internal.h"
#include "ir/atomic_file.h"
#include "ir/op_registry.h"
#include "support/error.h"

namespace fc::frontend {

namespace {

// The inference form of every node with a training form (the op record's TrainingForm, as the IR
// pass passes/inference_form.h applies it): training-only outputs go (and any graph output naming
// them), the mode goes (attribute or input); absent, ONNX's default is inference.
void to_inference_form(onnx::GraphProto& g) {
  std::set<std::string> dropped_outputs;
  for (onnx::NodeProto& n : *g.mutable_node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
    const ir::OpSchema* schema = ir::OpRegistry::global().find(n.op_type());
    if (!schema || !schema->training_form) continue;
    const ir::TrainingForm& form = *schema->training_form;
    for (int i = n.output_size() - 1; i >= 0 && static_cast<size_t>(i) >= form.inference_outputs; --i) {
      dropped_outputs.insert(n.output(i));
      n.mutable_output()->RemoveLast();
    }
    auto* attrs = n.mutable_attribute();
    for (int i = attrs->size() - 1; i >= 0; --i)
      if (attrs->Get(i).name() == "training_mode") attrs->DeleteSubrange(i, 1);
    if (form.onnx_mode_input >= 0)
      while (n.input_size() > form.onnx_mode_input) n.mutable_input()->RemoveLast();
  }
  auto* outs = g.mutable_output();
  for (int i = outs->size() - 1; i >= 0; --i)
    if (dropped_outputs.count(outs->Get(i).name())) outs->DeleteSubrange(i, 1);
}

}  // namespace

void export_trained_onnx(const std::string& source_onnx, const std::map<std::string, ir::Tensor>& values,
                         const std::string& out_path) {
  onnx::ModelProto m;
  {
    std::ifstream f(source_onnx, std::ios::binary);
    FC_CHECK(f && m.ParseFromIstream(&f), source_onnx, ": cannot read the model to export");
  }
  detail::strip_plan_additions(m);  // from a plan: its main graph is the user's model
  onnx::GraphProto& g = *m.mutable_graph();
  for (onnx::TensorProto& init : *g.mutable_initializer()) {
    auto it = values.find(init.name());
    if (it != values.end()) init = detail::tensor_to_onnx(it->second, init.name());
    else
      FC_CHECK(init.data_location() != onnx::TensorProto::EXTERNAL, source_onnx, ": initializer '", init.name(),
               "' uses external data, which the trained-model export does not copy yet");
  }
  to_inference_form(g);
  std::string bytes;
  FC_CHECK(m.SerializeToString(&bytes), out_path, ": serialising the model failed (over 2 GiB?)");
  ir::write_file_atomically(out_path, bytes);
}

}  // namespace fc::frontend
