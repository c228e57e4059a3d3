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
#include "support/error.h"

namespace fc::frontend {

namespace {

void set_tensor(onnx::TensorProto& p, const ir::Tensor& t) {
  const std::string name = p.name();
  p.Clear();
  p.set_name(name);
  for (int64_t d : t.dims()) p.add_dims(d);
  p.set_data_type(detail::dtype_to_onnx(t.dtype()));
  p.set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

void to_inference_form(onnx::GraphProto& g) {
  std::set<std::string> dropped_outputs;
  for (onnx::NodeProto& n : *g.mutable_node()) {
    if (n.op_type() == "BatchNormalization" && (n.domain().empty() || n.domain() == "ai.onnx")) {
      for (int i = 1; i < n.output_size(); ++i) dropped_outputs.insert(n.output(i));
      while (n.output_size() > 1) n.mutable_output()->RemoveLast();
      auto* attrs = n.mutable_attribute();
      for (int i = attrs->size() - 1; i >= 0; --i)
        if (attrs->Get(i).name() == "training_mode") attrs->DeleteSubrange(i, 1);
    }
    if (n.op_type() == "Dropout" && (n.domain().empty() || n.domain() == "ai.onnx")) {
      while (n.input_size() > 2) n.mutable_input()->RemoveLast();
    }
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
    if (it != values.end()) set_tensor(init, it->second);
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
