// `fcrun infer` (see fcrun_infer.h). The model is imported for exactly the inputs given: their
// shapes replace the declared ones (shape computations fold), small named inputs are bound by value
// (a Reshape shape, Slice starts, Clip bounds given as graph inputs), and a sequence input becomes
// one tensor input per element given (frontend::sequence_element_name).
#include "cli/fcrun_infer.h"

#include <algorithm>
#include <map>
#include <utility>

#include "cli/cli_common.h"
#include "frontend/onnx_import.h"
#include "frontend/shape_folding.h"
#include "frontend/tensor_proto_file.h"
#include "ir/verifier.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "support/error.h"

namespace fc::cli {
namespace {

// What one --input gives: a tensor, or a sequence's tensors.
struct GivenInput {
  std::string name;  // "" = the only data input
  std::string path;
  std::vector<ir::Tensor> tensors;
  bool sequence = false;
};

GivenInput read_input(const std::string& spec) {
  const auto eq = spec.find('=');
  GivenInput in;
  in.name = eq == std::string::npos ? "" : spec.substr(0, eq);
  in.path = eq == std::string::npos ? spec : spec.substr(eq + 1);
  if (!is_tensor_proto_path(in.path)) {
    in.tensors.push_back(load_tensor_file(in.path));
    return in;
  }
  frontend::ProtoValue v = frontend::load_proto_value(in.path);  // read and parsed once
  FC_CHECK(!v.sequence || !in.name.empty(), in.path, ": an ONNX SequenceProto (a sequence of ", v.tensors.size(),
           " tensors), not a tensor; give it to a sequence input of the model: --input NAME=", in.path);
  in.tensors = std::move(v.tensors);
  in.sequence = v.sequence;
  return in;
}

}  // namespace

int cmd_infer(const std::vector<std::string>& argv) {
  Args args(argv, {"--input", "--output", "--output-name", "--threads"}, {}, "fcrun infer");
  FC_CHECK(args.positionals().size() == 1, "fcrun infer: expected one MODEL argument");
  FC_CHECK(args.has("--output"), "fcrun infer: --output FILE.npy is required");
  const std::string model_path = args.positionals()[0];

  std::vector<GivenInput> given;
  frontend::ImportOptions options;
  for (const std::string& spec : args.all("--input")) {
    GivenInput in = read_input(spec);
    if (in.sequence) {
      for (const ir::Tensor& t : in.tensors) options.sequence_inputs[in.name].push_back(t.type());
    } else {
      const ir::Tensor& t = in.tensors[0];
      options.given_types[in.name] = t.type();
      if (!in.name.empty() && t.rank() <= 1 && t.numel() <= frontend::kMaxFoldElements)
        options.bound_inputs[in.name] = t;
    }
    given.push_back(std::move(in));
  }
  ir::Graph g = load_model(model_path, options);
  ir::verify(g);

  std::map<std::string, ir::Tensor> feeds;
  for (GivenInput& in : given) {
    if (in.sequence) {
      const ir::Value* first = g.find_value(frontend::sequence_element_name(in.name, 0));
      FC_CHECK(first && std::find(g.inputs.begin(), g.inputs.end(), first) != g.inputs.end(), in.path,
               ": an ONNX SequenceProto (a sequence of ", in.tensors.size(), " tensors), but '", in.name,
               "' is not a sequence input of ", model_path);
      for (size_t i = 0; i < in.tensors.size(); ++i)
        feeds[frontend::sequence_element_name(in.name, i)] = std::move(in.tensors[i]);
      continue;
    }
    std::string name = in.name;
    if (name.empty()) {
      FC_CHECK(g.inputs.size() == 1, "fcrun infer: the model has ", g.inputs.size(),
               " inputs; name each one: --input NAME=FILE.npy");
      name = g.inputs[0]->name;
    }
    FC_CHECK(g.find_value(name) && !g.is_param(g.find_value(name)), "fcrun infer: '", name,
             "' is not an input of ", model_path);
    feeds[name] = std::move(in.tensors[0]);
  }

  // The output: a tensor, or the tensors of a sequence output (S[0], S[1], ...).
  std::string out_name = g.outputs.at(0)->name;
  if (const std::string first = frontend::sequence_element_name("", 0);
      out_name.size() > first.size() && out_name.ends_with(first))
    out_name.resize(out_name.size() - first.size());  // the first output is a sequence's first tensor
  if (auto name = args.get("--output-name")) out_name = *name;
  std::vector<const ir::Value*> outs = frontend::sequence_outputs(g, out_name);
  const bool sequence = !outs.empty();
  if (!sequence)
    for (const ir::Value* o : g.outputs)
      if (o->name == out_name) outs = {o};
  FC_CHECK(!outs.empty(), "fcrun infer: '", out_name, "' is not an output of ", model_path);

  const int threads = args.get("--threads") ? parse_int(*args.get("--threads"), "--threads") : 0;
  runtime::cpu::CpuBackend cpu(threads);
  runtime::Executor ex(g, cpu);
  auto results = ex.run(feeds);
  const std::string path = *args.get("--output");
  if (!sequence) {
    save_tensor_file(path, results.at(outs[0]->name));
    return 0;
  }
  FC_CHECK(is_tensor_proto_path(path), "fcrun infer: output '", out_name, "' is a sequence: write it to a .pb file (an ONNX "
           "SequenceProto), not ", path);
  std::vector<ir::Tensor> tensors;
  for (const ir::Value* o : outs) tensors.push_back(results.at(o->name));
  frontend::save_sequence_proto(path, out_name, tensors);
  return 0;
}

}  // namespace fc::cli
