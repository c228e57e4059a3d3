// The ONNX importer's driver: load and check the model, turn initializers into parameters and
// graph inputs into data inputs (the data's dim 0 renamed to the batch symbol), then walk the nodes
// in order, normalising each (onnx_normalize.cpp), folding shape chains (shape_folding.cpp) and
// inferring types with our own shape functions as it goes, so that Shape nodes see symbolic dims.
// Afterwards:
// dead nodes are removed, every remaining op is checked against the registry, and our inferred
// types are compared with the shapes the file declares.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <set>

#include "frontend/onnx_internal.h"
#include "support/error.h"
#include "ir/op_registry.h"

namespace fc::frontend {

namespace detail {

const SymTensor* ImportState::known(const std::string& name) {
  auto it = known_.find(name);
  if (it != known_.end()) return &it->second;
  ir::Value* v = g.find_value(name);
  if (v && g.is_param(v) && g.param(v).numel() <= kMaxFoldElements)
    return &(known_[name] = SymTensor::from_tensor(g.param(v)));
  return nullptr;
}

std::string ImportState::fresh_value_name(const std::string& base) {
  std::string n = base;
  for (int i = 1; reserved_.count(n) || g.find_value(n); ++i) n = base + "_" + std::to_string(i);
  reserved_.insert(n);
  return n;
}

std::string ImportState::unique_node_name(const std::string& base) {
  std::string n = base;
  for (int i = 1; node_names_.count(n); ++i) n = base + "_" + std::to_string(i);
  node_names_.insert(n);
  return n;
}

}  // namespace detail

namespace {

using detail::ImportState;
using detail::LoadedModel;

[[noreturn]] void unsupported(const std::string& path, const std::string& op, const std::string& domain,
                              const std::string& node_name, int opset) {
  std::string full = domain.empty() ? op : domain + "." + op;
  fail(path, ": unsupported op '", full, "' (node '", node_name, "', opset ", opset,
       "); see `fcc --help` for the supported ops");
}

std::string node_domain(const onnx::NodeProto& n) { return n.domain() == "ai.onnx" ? "" : n.domain(); }

std::string default_node_name(const onnx::NodeProto& n, int index) {
  return n.name().empty() ? n.op_type() + "_" + std::to_string(index) : n.name();
}

// Whether our registry has ONNX op `op` at the model's opset (its version table starts at or before).
bool supported(const std::string& op, int opset) {
  const ir::OpSchema* s = ir::OpRegistry::global().find(op, "");
  return s && s->onnx_version_at(opset) > 0;
}

// Opsets above kNewestOnnxOpset are refused at the first node, naming it: of newer ones we cannot
// know what changed. Below kOldestOnnxOpset a node is read when its op is the same there as at
// kOldestOnnxOpset (its version table says so: Selu at opset 6, GlobalAveragePool at 1); an op that
// changed since (Add before numpy broadcasting) is refused, naming the node.
void check_opset(const LoadedModel& m, const onnx::NodeProto& n, const std::string& node_name) {
  if (m.opset > ir::kNewestOnnxOpset)
    fail(m.path, ": ", n.op_type(), " node '", node_name, "': ONNX opset ", m.opset, " is newer than ",
         ir::kNewestOnnxOpset, ", the newest supported, and its changes to ops are not known here (opsets ",
         ir::kOldestOnnxOpset, " to ", ir::kNewestOnnxOpset, "); export or convert the model to opset ",
         ir::kNewestOnnxOpset);
  if (m.opset >= ir::kOldestOnnxOpset) return;
  const ir::OpSchema* s = ir::OpRegistry::global().find(n.op_type(), "");
  if (s && s->onnx_version_at(m.opset) > 0 && s->onnx_version_at(m.opset) == s->onnx_version_at(ir::kOldestOnnxOpset))
    return;
  fail(m.path, ": ", n.op_type(), " node '", node_name, "': ONNX opset ", m.opset, " is older than ",
       ir::kOldestOnnxOpset, ", the oldest supported (opsets ", ir::kOldestOnnxOpset, " to ", ir::kNewestOnnxOpset,
       "; older ones only for ops unchanged since), and ", n.op_type(),
       s && s->onnx_version_at(m.opset) > 0 ? " changed after it" : " is not an op of it",
       "; convert the model with onnx.version_converter");
}

// Reports unsupported ops before the ONNX checker (whose message for an unknown op is less
// helpful). Shape-chain ops without a schema are allowed here: they may fold away.
void prescan(const LoadedModel& m) {
  int index = 0;
  for (const auto& n : m.model.graph().node()) {
    std::string domain = node_domain(n);
    if (domain.empty()) check_opset(m, n, default_node_name(n, index));
    if (!domain.empty()) {
      auto it = m.domain_opsets.find(domain);
      unsupported(m.path, n.op_type(), domain, default_node_name(n, index), it == m.domain_opsets.end() ? 0 : it->second);
    }
    if (!supported(n.op_type(), m.opset) && !is_shape_fold_op(n.op_type()) &&
        !detail::rewritten_at_import(n.op_type(), m.opset))
      unsupported(m.path, n.op_type(), "", default_node_name(n, index), m.opset);
    ++index;
  }
}

class Importer {
 public:
  Importer(const std::string& path, const ImportOptions& options) : path_(path), options_(options) {}

  ir::Graph run(const LoadedModel& m) {
    ir::Graph g;
    ImportState st(g, m, options_);
    const onnx::GraphProto& gp = m.model.graph();
    collect_declared_types(gp);
    reserve_names(gp, st);
    add_params(gp, g);
    add_inputs(gp, g, st);
    int index = 0;
    for (const auto& n : gp.node()) add_node(n, index++, g, st, m.opset);
    for (const auto& o : gp.output()) {
      if (const std::vector<std::string>* elements = st.sequence(o.name())) {
        add_sequence_output(o.name(), *elements, g);
        continue;
      }
      ir::Value* v = g.find_value(o.name());
      FC_CHECK(v, path_, ": graph output '", o.name(), "' is not produced by any node");
      g.outputs.push_back(v);
    }
    g.remove_dead_nodes();
    for (const auto& n : g.nodes())
      if (n->domain.empty() && !supported(n->op, m.opset)) unsupported(path_, n->op, "", n->name, m.opset);
    g.toposort();
    ir::infer_graph_types(g);
    check_declared_types(g);
    return g;
  }

 private:
  void collect_declared_types(const onnx::GraphProto& gp) {
    for (const auto* list : {&gp.input(), &gp.output(), &gp.value_info()})
      for (const auto& vi : *list) declared_[vi.name()] = detail::type_from_onnx(vi.type());
  }

  void reserve_names(const onnx::GraphProto& gp, ImportState& st) {
    for (const auto& t : gp.initializer()) st.reserve_value_name(t.name());
    for (const auto& vi : gp.input()) st.reserve_value_name(vi.name());
    for (const auto& n : gp.node())
      for (const auto& o : n.output()) st.reserve_value_name(o);
  }

  void add_params(const onnx::GraphProto& gp, ir::Graph& g) {
    for (const auto& t : gp.initializer()) {
      initializers_.insert(t.name());
      g.add_param(t.name(), detail::tensor_from_onnx(t, "initializer '" + t.name() + "'"));
    }
  }

  // A sequence graph input: one tensor input per element given for it (ImportOptions).
  void add_sequence_input(const onnx::ValueInfoProto& vi, ir::Graph& g, ImportState& st) {
    auto given = options_.sequence_inputs.find(vi.name());
    FC_CHECK(given != options_.sequence_inputs.end(), path_, ": input '", vi.name(),
             "' is a sequence; give its tensors as an ONNX SequenceProto (fcrun infer --input ", vi.name(),
             "=FILE.pb)");
    const auto& declared = vi.type().sequence_type().elem_type();
    std::vector<std::string> elements;
    for (size_t i = 0; i < given->second.size(); ++i) {
      const ir::TensorType& t = given->second[i];
      if (declared.has_tensor_type() && declared.tensor_type().elem_type() != 0) {
        const ir::DType want = detail::dtype_from_onnx(declared.tensor_type().elem_type());
        FC_CHECK(t.dtype == want, path_, ": input '", vi.name(), "' element ", i, " is ", ir::to_string(t),
                 ", the sequence holds ", ir::dtype_name(want));
      }
      const std::string name = sequence_element_name(vi.name(), i);
      FC_CHECK(!g.find_value(name), path_, ": input '", vi.name(), "': its element name '", name, "' is taken");
      g.inputs.push_back(g.add_value(name, t));
      elements.push_back(name);
    }
    st.set_sequence(vi.name(), std::move(elements));
  }

  // A sequence graph output: its elements as outputs S[0], S[1], ... (Identity: an element may be
  // another output, or in the sequence twice).
  void add_sequence_output(const std::string& name, const std::vector<std::string>& elements, ir::Graph& g) {
    FC_CHECK(!elements.empty(), path_, ": graph output '", name,
             "' is an empty sequence, which has no tensors to give (not supported)");
    for (size_t i = 0; i < elements.size(); ++i) {
      const std::string out = sequence_element_name(name, i);
      FC_CHECK(!g.find_value(out), path_, ": graph output '", name, "': its element name '", out, "' is taken");
      ir::Value* v = g.add_value(out, {});
      g.add_node("Identity", {g.find_value(elements[i])}, {v}, {}, out);
      g.outputs.push_back(v);
    }
  }

  // Data inputs (graph inputs that are not initializers) keep the dims the model declares, except
  // the batch: with a symbolic batch, dim 0 of the first data input (the model's data, even where
  // the file fixes it) and every dim of any input named like that dim's symbol (e.g. "batch_size"
  // on the labels) become the batch symbol. A Gemm's C of [1, 5] or a Conv weight given as an
  // input keep their sizes.
  void add_inputs(const onnx::GraphProto& gp, ir::Graph& g, ImportState& st) {
    std::string batch_name;
    bool first = true;
    size_t data_inputs = 0;
    for (const auto& vi : gp.input()) data_inputs += !initializers_.count(vi.name());
    for (const auto& vi : gp.input()) {
      if (initializers_.count(vi.name())) continue;
      const auto& tt = vi.type().tensor_type();
      if (vi.type().has_sequence_type()) {
        add_sequence_input(vi, g, st);
        continue;
      }
      FC_CHECK(vi.type().has_tensor_type() && tt.has_shape(), path_, ": input '", vi.name(),
               "' has no tensor shape (only tensor inputs with known rank are supported)");
      ir::TensorType t = detail::type_from_onnx(vi.type());
      FC_CHECK(t.dtype != ir::DType::Undefined, path_, ": input '", vi.name(), "' has element type ",
               detail::onnx_type_name(tt.elem_type()), ", which is not supported");
      const ir::TensorType* given = nullptr;
      if (auto it = options_.given_types.find(vi.name()); it != options_.given_types.end()) given = &it->second;
      if (auto it = options_.given_types.find(""); it != options_.given_types.end() && data_inputs == 1)
        given = &it->second;
      if (auto b = options_.bound_inputs.find(vi.name()); b != options_.bound_inputs.end()) {
        st.set_known(vi.name(), SymTensor::from_tensor(b->second));
        specialise(t, b->second.type(), vi.name(), first && options_.symbolic_batch);
      } else if (given) {
        specialise(t, *given, vi.name(), first && options_.symbolic_batch);
      } else if (options_.symbolic_batch) {
        if (first && t.rank() > 0) {
          if (!t.dims[0].symbol.empty()) batch_name = t.dims[0].symbol;
          t.dims[0] = ir::Dim::sym(options_.batch_symbol);
        }
        for (ir::Dim& d : t.dims)
          if (!batch_name.empty() && d.symbol == batch_name) d = ir::Dim::sym(options_.batch_symbol);
      }
      first = false;
      g.inputs.push_back(g.add_value(vi.name(), std::move(t)));
    }
  }

  // The declared type `t` of input `name` becomes the type of the value given for it. A fixed dim 0
  // of the data input (`batch_dim`) is the batch: a different size given stays the batch symbol
  // (the file's declarations of that size elsewhere are not contradicted).
  void specialise(ir::TensorType& t, const ir::TensorType& given, const std::string& name, bool batch_dim) {
    FC_CHECK(given.dtype == t.dtype && given.rank() == t.rank(), path_, ": input '", name, "' is declared ",
             ir::to_string(t), ", the value given is ", ir::to_string(given));
    for (size_t i = 0; i < t.rank(); ++i) {
      bool batch = i == 0 && batch_dim && t.dims[0].is_known() && t.dims[0] != given.dims[0];
      FC_CHECK(!t.dims[i].is_known() || t.dims[i] == given.dims[i] || batch, path_, ": input '", name,
               "' is declared ", ir::to_string(t), ", the value given is ", ir::to_string(given));
      t.dims[i] = batch ? ir::Dim::sym(options_.batch_symbol) : given.dims[i];
    }
  }

  void add_node(const onnx::NodeProto& n, int index, ir::Graph& g, ImportState& st, int opset) {
    std::string name = st.unique_node_name(default_node_name(n, index));
    if (!node_domain(n).empty()) unsupported(path_, n.op_type(), node_domain(n), name, opset);
    auto add = [&](detail::PendingNode p) {
      while (!p.outputs.empty() && p.outputs.back().empty()) p.outputs.pop_back();
      std::vector<ir::Value*> outs;
      for (const std::string& o : p.outputs)
        outs.push_back(g.add_value(o.empty() ? st.fresh_value_name(name + "/unused") : o, {}));
      ir::Node* added = g.add_node(p.op, p.inputs, outs, std::move(p.attrs), p.name);
      added->domain = p.domain;
      type_node(*added, g, st, opset);
      return added;
    };
    if (detail::is_sequence_op(n.op_type(), opset)) return detail::lower_sequence_node(n, name, st, add);
    // Identity passes a sequence on (opset 14 on): the same elements under its output's name.
    if (n.op_type() == "Identity" && n.input_size() == 1 && n.output_size() == 1)
      if (const std::vector<std::string>* elements = st.sequence(n.input(0))) {
        st.set_sequence(n.output(0), *elements);
        return;
      }
    std::vector<ir::Value*> inputs;
    for (const std::string& in : n.input()) {
      if (in.empty()) {
        inputs.push_back(nullptr);
        continue;
      }
      ir::Value* v = g.find_value(in);
      FC_CHECK(v || !st.sequence(in), path_, ": ", n.op_type(), " node '", name, "': input '", in,
               "' is a sequence, which only the sequence ops read");
      FC_CHECK(v, path_, ": ", n.op_type(), " node '", name, "': input '", in, "' is not defined before use");
      inputs.push_back(v);
    }
    std::vector<detail::PendingNode> pending = detail::normalize_node(n, name, inputs, st, add);
    ir::Node* prev = nullptr;
    for (detail::PendingNode& p : pending) {
      if (prev)  // a rewrite's later node: a null input i is the previous node's output i
        for (size_t i = 0; i < p.inputs.size(); ++i)
          if (!p.inputs[i]) p.inputs[i] = prev->outputs.at(i);
      prev = add(std::move(p));
    }
  }

  // Folds the node if it is part of a shape chain (turning fully known results into Constants);
  // otherwise checks that we support it and infers its output types with its shape function.
  void type_node(ir::Node& n, ir::Graph& g, ImportState& st, int opset) {
    std::vector<const SymTensor*> syms;
    std::vector<ir::TensorType> types;
    std::vector<const ir::Tensor*> values;
    for (ir::Value* in : n.inputs) {
      const SymTensor* s = in ? st.known(in->name) : nullptr;
      syms.push_back(s);
      types.push_back(in ? in->type : ir::TensorType{});
      if (in && g.is_param(in)) values.push_back(&g.param(in));
      else values.push_back(s && s->known() ? &s->tensor : nullptr);
    }
    if (auto folded = fold_shape_node(n, syms, types)) {
      FC_ASSERT(folded->size() == n.outputs.size());
      for (size_t i = 0; i < folded->size(); ++i) {
        const SymTensor& r = (*folded)[i];
        n.outputs[i]->type = ir::TensorType::concrete(r.dtype, r.dims);
        st.set_known(n.outputs[i]->name, r);
      }
      if (n.outputs.size() == 1 && (*folded)[0].known() && n.op != "Constant") {
        n.op = "Constant";
        n.inputs.clear();
        n.attrs = {{"value", (*folded)[0].tensor}};
      }
      return;
    }
    if (n.domain.empty() && !supported(n.op, opset)) unsupported(path_, n.op, "", n.name, opset);
    std::vector<ir::TensorType> outs = ir::infer_output_types(n, types, values);
    for (size_t i = 0; i < n.outputs.size(); ++i) n.outputs[i]->type = outs[i];
  }

  // Our types must agree with the file's declarations where both know a dimension (the batch is symbolic in ours
  // and may be fixed in the file, so symbols are not compared).
  void check_declared_types(const ir::Graph& g) {
    auto check = [&](const ir::Value* v, const std::string& who) {
      auto it = declared_.find(v->name);
      if (it == declared_.end() || it->second.dtype == ir::DType::Undefined) return;
      const ir::TensorType& theirs = it->second;
      bool ok = theirs.dtype == v->type.dtype && theirs.rank() == v->type.rank();
      for (size_t i = 0; ok && i < theirs.rank(); ++i)
        if (theirs.dims[i].is_known() && v->type.dims[i].is_known()) ok = theirs.dims[i] == v->type.dims[i];
      FC_CHECK(ok, path_, ": ", who, ": output '", v->name, "' has type ", ir::to_string(v->type),
               ", but the model declares ", ir::to_string(theirs),
               " (a wrong declaration in the model, or an importer or op bug)");
    };
    for (const auto& n : g.nodes())
      for (const ir::Value* o : n->outputs) check(o, n->describe());
  }

  std::string path_;
  const ImportOptions& options_;
  std::set<std::string> initializers_;
  std::unordered_map<std::string, ir::TensorType> declared_;
};

// Runs `import` so that every error it throws is one line naming `path` once.
template <typename F>
ir::Graph with_file_errors(const std::string& path, const F& import) {
  try {
    return import();
  } catch (const Error& e) {
    // Every message names the file once.
    std::string msg = e.what();
    if (msg.rfind(path + ":", 0) == 0) throw;
    fail(path, ": ", msg);
  } catch (const std::exception& e) {
    // Library exceptions (allocation, protobuf, filesystem) still end in one line naming the file.
    fail(path, ": import failed: ", e.what());
  }
}

}  // namespace

std::string sequence_element_name(const std::string& sequence, size_t index) {
  return sequence + "[" + std::to_string(index) + "]";
}

std::vector<const ir::Value*> sequence_outputs(const ir::Graph& g, const std::string& sequence) {
  std::vector<const ir::Value*> r;
  for (size_t i = 0;; ++i) {
    const ir::Value* v = g.find_value(sequence_element_name(sequence, i));
    if (!v || std::find(g.outputs.begin(), g.outputs.end(), v) == g.outputs.end()) return r;
    r.push_back(v);
  }
}

ir::Graph import_onnx(const std::string& path, const ImportOptions& options) {
  return with_file_errors(path, [&] { return Importer(path, options).run(detail::load_model(path, prescan)); });
}

namespace detail {

ir::Graph import_model(onnx::ModelProto model, const std::string& path, const ImportOptions& options) {
  return with_file_errors(path, [&] {
    return Importer(path, options).run(load_parsed_model(std::move(model), path, prescan));
  });
}

}  // namespace detail

}  // namespace fc::frontend
