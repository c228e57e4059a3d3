// Plan files (layout in plan_io.h). Writing: the user's model with external data inlined, plus the
// training IR graph as training_info[0].algorithm, plus metadata; the content hash (FNV-1a 64 of the
// serialized model without fc.hash) is appended as the last metadata entry, which protobuf allows
// anywhere in a message, so the bytes before it are exactly what was hashed. Reading checks the
// version and hash, converts the algorithm back to IR and imports the main graph as import_onnx
// would.
//
// What the ONNX fields cannot say is kept in metadata too: the training graph's opset, the order of
// its parameters (some are the main graph's initializers, referenced by name as ONNX allows, when
// their values are identical) and how many algorithm outputs are the graph's own (the rest are the
// state-update values ONNX wants as outputs).
#include "frontend/plan_io.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/wire_format_lite.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "frontend/onnx_internal.h"
#include "ir/atomic_file.h"
#include "ir/content_hash.h"
#include "support/error.h"

namespace fc::frontend {

namespace fs = std::filesystem;

namespace {

// 2: the step's hyper-parameter vector grew to 13 entries (AdamW's derived scalars) and a bucket's
// updates may be one fc.HorizontalFused node; a version-1 plan would be fed the wrong vector.
constexpr const char* kPlanVersion = "2";
constexpr const char* kDomainOnnx = "ai.fcc.onnx";  // IR domain "" (ONNX ops in our canonical form)
constexpr const char* kDomainFc = "ai.fcc";         // IR domain "fc"
constexpr int64_t kTrainingIrVersion = 7;            // the first ONNX IR version with training_info

constexpr const char* kKeyVersion = "fc.plan_version";
constexpr const char* kKeyHash = "fc.hash";
constexpr const char* kKeyRecipe = "fc.recipe";
constexpr const char* kKeyRecipePath = "fc.recipe_path";
constexpr const char* kKeyOverrides = "fc.overrides";
constexpr const char* kKeyDataInput = "fc.io.data_input";
constexpr const char* kKeyLabelsInput = "fc.io.labels_input";
constexpr const char* kKeyLossOutput = "fc.io.loss_output";
constexpr const char* kKeyModelOutput = "fc.io.model_output";
constexpr const char* kKeyTrainOpset = "fc.train.opset";
constexpr const char* kKeyTrainParams = "fc.train.params";    // every parameter, in order, one a line
constexpr const char* kKeyTrainOutputs = "fc.train.outputs";  // count of the graph's own outputs
// Graph::accumulations, one line each for the accumulator and its sum, pair after pair (absent: none).
constexpr const char* kKeyTrainAccumulations = "fc.train.accumulations";
constexpr const char* kKeySourceIrVersion = "fc.source_ir_version";  // when we raised it

std::string onnx_domain(const ir::Node& n) {
  if (n.domain.empty()) return kDomainOnnx;
  if (n.domain == "fc") return kDomainFc;
  fail(n.describe(), ": domain '", n.domain, "' cannot be stored in a plan");
}

std::string ir_domain(const onnx::NodeProto& n) {
  if (n.domain() == kDomainOnnx) return "";
  if (n.domain() == kDomainFc) return "fc";
  fail("node '", n.name(), "' has domain '", n.domain(), "', which is not a plan domain");
}

using ir::fnv1a64;
using ir::hex64;

std::string join_lines(const std::vector<std::string>& items, const char* what) {
  std::string s;
  for (const std::string& i : items) {
    if (i.empty() || i.find('\n') != std::string::npos) {
      std::string shown;
      for (char c : i) shown += c == '\n' ? std::string("\\n") : std::string(1, c);
      fail(what, " '", shown, "' cannot be stored in a plan (empty or containing a line break)");
    }
    if (!s.empty()) s += '\n';
    s += i;
  }
  return s;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> r;
  for (size_t start = 0; start < s.size();) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    r.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return r;
}

void add_meta(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  auto* e = m.add_metadata_props();
  e->set_key(key);
  e->set_value(value);
}

// The serialized record "metadata_props += {fc.hash: hash}", appended to the hashed bytes.
std::string hash_record(const std::string& hash) {
  onnx::ModelProto tail;
  add_meta(tail, kKeyHash, hash);
  return tail.SerializeAsString();
}

bool same_tensor(const ir::Tensor& a, const ir::Tensor& b) {
  return a.dtype() == b.dtype() && a.dims() == b.dims() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

onnx::ValueInfoProto value_info(const ir::Value* v) {
  onnx::ValueInfoProto p;
  p.set_name(v->name);
  *p.mutable_type() = detail::type_to_onnx(v->type);
  return p;
}

// ---- IR training graph -> training_info ----

void write_algorithm(const ir::Graph& g, onnx::ModelProto& m) {
  std::unordered_map<std::string, const onnx::TensorProto*> main_inits;
  for (const auto& t : m.graph().initializer()) main_inits[t.name()] = &t;
  onnx::TrainingInfoProto ti;
  onnx::GraphProto& a = *ti.mutable_algorithm();
  a.set_name(g.name);

  std::set<std::string> defined;
  auto define = [&](const ir::Value* v) {
    FC_CHECK(!v->name.empty(), "training graph: a value without a name cannot be stored in a plan");
    defined.insert(v->name);
  };
  for (const ir::Value* v : g.inputs) {
    define(v);
    *a.add_input() = value_info(v);
  }
  std::vector<std::string> param_names;
  for (const ir::Value* p : g.param_order()) {
    define(p);
    param_names.push_back(p->name);
    const ir::Tensor& t = g.param(p);
    auto it = main_inits.find(p->name);
    bool shared = it != main_inits.end() &&
                  same_tensor(detail::tensor_from_onnx(*it->second, "initializer '" + p->name + "'"), t);
    if (!shared) *a.add_initializer() = detail::tensor_to_onnx(t, p->name);
    if (p->type != t.type()) *a.add_value_info() = value_info(p);
  }

  std::vector<const ir::Value*> outputs(g.outputs.begin(), g.outputs.end());
  std::set<const ir::Value*> is_output(outputs.begin(), outputs.end());
  for (const auto& [param, next] : g.state_updates) {
    FC_CHECK(g.is_param(param), "training graph: state update of '", param->name, "', which is not a parameter");
    if (is_output.insert(next).second) outputs.push_back(next);
    auto* b = ti.add_update_binding();
    b->set_key(param->name);
    b->set_value(next->name);
  }

  for (const auto& n : g.nodes()) {
    onnx::NodeProto& p = *a.add_node();
    p.set_op_type(n->op);
    p.set_domain(onnx_domain(*n));
    p.set_name(n->name);
    for (const ir::Value* in : n->inputs) {
      FC_CHECK(!in || defined.count(in->name), n->describe(), ": input '", in->name, "' is not defined before use");
      p.add_input(in ? in->name : std::string());
    }
    for (const ir::Value* o : n->outputs) {
      define(o);
      p.add_output(o->name);
      if (!is_output.count(o)) *a.add_value_info() = value_info(o);
    }
    for (const auto& [key, attr] : n->attrs) *p.add_attribute() = detail::attribute_to_onnx(key, attr);
  }
  for (const ir::Value* o : outputs) {
    FC_CHECK(defined.count(o->name), "training graph: output '", o->name, "' is not defined");
    *a.add_output() = value_info(o);
  }

  *m.add_training_info() = std::move(ti);
  add_meta(m, kKeyTrainOpset, std::to_string(g.opset));
  add_meta(m, kKeyTrainParams, join_lines(param_names, "parameter name"));
  add_meta(m, kKeyTrainOutputs, std::to_string(g.outputs.size()));
  if (!g.accumulations.empty()) {
    std::vector<std::string> pairs;
    for (const auto& [acc, sum] : g.accumulations) {
      FC_CHECK(g.is_param(acc), "training graph: accumulation into '", acc->name, "', which is not a parameter");
      pairs.push_back(acc->name);
      pairs.push_back(sum->name);
    }
    add_meta(m, kKeyTrainAccumulations, join_lines(pairs, "accumulation value name"));
  }
}

// ---- training_info -> IR training graph ----

using MetaMap = std::map<std::string, std::string>;

const std::string& meta_value(const MetaMap& meta, const std::string& key) {
  auto it = meta.find(key);
  FC_CHECK(it != meta.end(), "not a valid plan (metadata '", key, "' is missing)");
  return it->second;
}

int64_t meta_int(const MetaMap& meta, const std::string& key) {
  const std::string& s = meta_value(meta, key);
  size_t used = 0;
  int64_t v = -1;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  FC_CHECK(used == s.size() && !s.empty() && v >= 0, "not a valid plan (metadata '", key, "' is '", s, "')");
  return v;
}

// The exact inverse of type_to_onnx (type_from_onnx forgets the dims of an undefined type).
ir::TensorType read_type(const onnx::TypeProto& t, const std::string& name) {
  FC_CHECK(t.has_tensor_type(), "plan is corrupt: value '", name, "' has no tensor type");
  ir::TensorType r;
  int32_t et = t.tensor_type().elem_type();
  if (et != onnx::TensorProto::UNDEFINED) {
    r.dtype = detail::dtype_from_onnx(et);
    FC_CHECK(r.dtype != ir::DType::Undefined, "plan is corrupt: value '", name, "' has element type ",
             detail::onnx_type_name(et));
  }
  for (const auto& d : t.tensor_type().shape().dim()) {
    if (d.has_dim_value()) r.dims.push_back(ir::Dim::known(d.dim_value()));
    else if (d.has_dim_param() && !d.dim_param().empty()) r.dims.push_back(ir::Dim::sym(d.dim_param()));
    else r.dims.push_back(ir::Dim::unknown());
  }
  return r;
}

ir::Graph read_algorithm(const onnx::ModelProto& m, const MetaMap& meta) {
  FC_CHECK(m.training_info_size() == 1, "not a valid plan (", m.training_info_size(),
           " training_info entries, expected 1)");
  const onnx::TrainingInfoProto& ti = m.training_info(0);
  const onnx::GraphProto& a = ti.algorithm();
  ir::Graph g;
  g.name = a.name();
  g.opset = static_cast<int>(meta_int(meta, kKeyTrainOpset));

  std::unordered_map<std::string, const onnx::TypeProto*> types;
  for (const auto* list : {&a.input(), &a.output(), &a.value_info()})
    for (const auto& vi : *list) types[vi.name()] = &vi.type();
  auto type_of = [&](const std::string& name) {
    auto it = types.find(name);
    FC_CHECK(it != types.end(), "plan is corrupt: value '", name, "' has no type");
    return read_type(*it->second, name);
  };
  auto value = [&](const std::string& name) {
    ir::Value* v = g.find_value(name);
    FC_CHECK(v, "plan is corrupt: value '", name, "' is not defined in the training graph");
    return v;
  };

  for (const auto& vi : a.input()) g.inputs.push_back(g.add_value(vi.name(), type_of(vi.name())));

  std::unordered_map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : m.graph().initializer()) inits[t.name()] = &t;
  for (const auto& t : a.initializer()) inits[t.name()] = &t;  // the algorithm's own take precedence
  for (const std::string& name : split_lines(meta_value(meta, kKeyTrainParams))) {
    auto it = inits.find(name);
    FC_CHECK(it != inits.end(), "plan is corrupt: parameter '", name, "' has no initializer");
    ir::Value* p = g.add_param(name, detail::tensor_from_onnx(*it->second, "parameter '" + name + "'"));
    if (types.count(name)) p->type = type_of(name);
  }

  // Values first, nodes after: the node list need not be in topological order here.
  for (const auto& n : a.node())
    for (const std::string& o : n.output()) g.add_value(o, type_of(o));
  for (const auto& n : a.node()) {
    std::vector<ir::Value*> ins, outs;
    for (const std::string& in : n.input()) ins.push_back(in.empty() ? nullptr : value(in));
    for (const std::string& o : n.output()) outs.push_back(value(o));
    std::map<std::string, ir::Attribute> attrs;
    for (const auto& at : n.attribute())
      attrs[at.name()] = detail::attribute_from_onnx(at, n.op_type() + " node '" + n.name() + "'");
    ir::Node* node = g.add_node(n.op_type(), std::move(ins), std::move(outs), std::move(attrs), n.name());
    node->domain = ir_domain(n);
  }

  int64_t own_outputs = meta_int(meta, kKeyTrainOutputs);
  FC_CHECK(own_outputs <= a.output_size(), "plan is corrupt: ", own_outputs, " outputs declared, ", a.output_size(),
           " present");
  for (int i = 0; i < own_outputs; ++i) g.outputs.push_back(value(a.output(i).name()));
  for (const auto& b : ti.update_binding()) {
    ir::Value* p = value(b.key());
    FC_CHECK(g.is_param(p), "plan is corrupt: state update of '", b.key(), "', which is not a parameter");
    g.state_updates.emplace_back(p, value(b.value()));
  }
  if (auto it = meta.find(kKeyTrainAccumulations); it != meta.end()) {
    const std::vector<std::string> pairs = split_lines(it->second);
    FC_CHECK(pairs.size() % 2 == 0, "plan is corrupt: '", kKeyTrainAccumulations, "' holds an odd number of names");
    for (size_t i = 0; i < pairs.size(); i += 2) {
      ir::Value* acc = value(pairs[i]);
      FC_CHECK(g.is_param(acc), "plan is corrupt: accumulation into '", pairs[i], "', which is not a parameter");
      g.accumulations.emplace_back(acc, value(pairs[i + 1]));
    }
  }
  g.toposort();
  return g;
}

// ---- files ----

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail("cannot open");
  uintmax_t size = fs::file_size(path, ec);
  if (ec) fail("cannot open");
  FC_CHECK(size > 0, "not a valid plan (empty file)");
  FC_CHECK(size <= static_cast<uintmax_t>(INT_MAX), "not a valid plan (", size, " bytes, over the 2 GiB limit)");
  std::ifstream f(path, std::ios::binary);
  FC_CHECK(f, "cannot open");
  std::string bytes(size, '\0');
  f.read(bytes.data(), static_cast<std::streamsize>(size));
  FC_CHECK(f && static_cast<uintmax_t>(f.gcount()) == size, "cannot read (the file changed while reading?)");
  return bytes;
}

// Checks fc.hash: fast path, the file as we wrote it (hashed bytes, then the hash record); else the
// model re-serialized without the hash (a tool that rewrote the plan moves the record).
std::string check_hash(const std::string& bytes, onnx::ModelProto& m) {
  auto* props = m.mutable_metadata_props();
  int at = -1;
  for (int i = 0; i < props->size(); ++i)
    if (props->Get(i).key() == kKeyHash) at = i;
  FC_CHECK(at >= 0, "not a valid plan (metadata '", kKeyHash, "' is missing)");
  const std::string hash = props->Get(at).value();
  const std::string tail = hash_record(hash);
  if (at == props->size() - 1 && bytes.size() > tail.size() &&
      bytes.compare(bytes.size() - tail.size(), tail.size(), tail) == 0 &&
      hex64(fnv1a64(bytes.data(), bytes.size() - tail.size())) == hash)
    return hash;
  props->DeleteSubrange(at, 1);
  std::string canonical = m.SerializeAsString();
  add_meta(m, kKeyHash, hash);
  FC_CHECK(hex64(fnv1a64(canonical.data(), canonical.size())) == hash,
           "plan is corrupt (content hash mismatch); compile it again with fcc compile");
  return hash;
}

Plan read_plan(const std::string& path) {
  std::string bytes = read_file(path);
  onnx::ModelProto m;
  FC_CHECK(m.ParseFromString(bytes), "not a valid plan (protobuf parse error; truncated or not a plan file?)");
  MetaMap meta;
  for (const auto& e : m.metadata_props()) meta[e.key()] = e.value();
  auto version = meta.find(kKeyVersion);
  FC_CHECK(version != meta.end(), "not a plan (an ONNX model without fc.plan_version metadata; compile one with "
                                  "fcc compile)");
  FC_CHECK(version->second == kPlanVersion, "plan format version '", version->second,
           "' is not supported (this build reads version ", kPlanVersion, "); compile the plan again");
  Plan plan;
  plan.hash = check_hash(bytes, m);
  bytes = std::string();  // release before the graphs take their copies of the weights
  plan.meta.recipe_text = meta_value(meta, kKeyRecipe);
  plan.meta.recipe_path = meta_value(meta, kKeyRecipePath);
  plan.meta.overrides = split_lines(meta_value(meta, kKeyOverrides));
  plan.meta.data_input = meta_value(meta, kKeyDataInput);
  plan.meta.labels_input = meta_value(meta, kKeyLabelsInput);
  plan.meta.loss_output = meta_value(meta, kKeyLossOutput);
  plan.meta.model_output = meta_value(meta, kKeyModelOutput);
  plan.train = read_algorithm(m, meta);
  detail::strip_plan_additions(m);
  plan.inference = detail::import_model(std::move(m), path);
  return plan;
}

// Prefixes `path` to messages that do not name it (or `other_file`) first yet: one line, the file
// named once.
template <typename F>
auto naming_file(const std::string& path, const char* action, const F& f, const std::string& other_file = {}) {
  try {
    return f();
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind(path + ":", 0) == 0 || (!other_file.empty() && msg.rfind(other_file + ":", 0) == 0)) throw;
    fail(path, ": ", msg);
  } catch (const std::exception& e) {
    fail(path, ": ", action, " failed: ", e.what());
  }
}

}  // namespace

namespace detail {

void strip_plan_additions(onnx::ModelProto& m) {
  bool is_plan = false;
  std::string source_ir;
  for (const auto& e : m.metadata_props()) {
    if (e.key() == kKeyVersion) is_plan = true;
    if (e.key() == kKeySourceIrVersion) source_ir = e.value();
  }
  if (!is_plan) return;
  if (!source_ir.empty()) {
    try {
      m.set_ir_version(std::stoll(source_ir));
    } catch (const std::exception&) {
      fail("not a valid plan (metadata '", kKeySourceIrVersion, "' is '", source_ir, "')");
    }
  }
  m.clear_training_info();
  auto* props = m.mutable_metadata_props();
  for (int i = props->size() - 1; i >= 0; --i)
    if (props->Get(i).key().rfind("fc.", 0) == 0) props->DeleteSubrange(i, 1);
  auto* opsets = m.mutable_opset_import();
  for (int i = opsets->size() - 1; i >= 0; --i)
    if (opsets->Get(i).domain() == kDomainOnnx || opsets->Get(i).domain() == kDomainFc) opsets->DeleteSubrange(i, 1);
}

}  // namespace detail

void save_plan(const std::string& path, const std::string& source_onnx, const ir::Graph& train, const PlanMeta& meta) {
  naming_file(path, "writing the plan", [&] {
    onnx::ModelProto m;
    detail::parse_model_file(source_onnx, m);
    detail::strip_plan_additions(m);  // a plan given as the source contributes its user model
    detail::resolve_external_data(m, source_onnx);
    detail::inline_external_data(*m.mutable_graph());
    if (m.ir_version() < kTrainingIrVersion) {
      add_meta(m, kKeySourceIrVersion, std::to_string(m.ir_version()));
      m.set_ir_version(kTrainingIrVersion);
    }
    for (const char* domain : {kDomainOnnx, kDomainFc}) {
      auto* o = m.add_opset_import();
      o->set_domain(domain);
      o->set_version(1);
    }
    add_meta(m, kKeyVersion, kPlanVersion);
    add_meta(m, kKeyRecipe, meta.recipe_text);
    add_meta(m, kKeyRecipePath, meta.recipe_path);
    add_meta(m, kKeyOverrides, join_lines(meta.overrides, "override"));
    add_meta(m, kKeyDataInput, meta.data_input);
    add_meta(m, kKeyLabelsInput, meta.labels_input);
    add_meta(m, kKeyLossOutput, meta.loss_output);
    add_meta(m, kKeyModelOutput, meta.model_output);
    write_algorithm(train, m);

    size_t size = m.ByteSizeLong() + hash_record(std::string(16, '0')).size();
    FC_CHECK(size <= static_cast<size_t>(INT_MAX), "the plan would be ", size,
             " bytes, over the 2 GiB limit of an ONNX (protobuf) file; a model this large cannot be stored as a plan");
    std::string bytes;
    FC_CHECK(m.SerializeToString(&bytes), "serialising the plan failed");
    const std::string hash = hex64(fnv1a64(bytes.data(), bytes.size()));
    ir::write_file_atomically(path, bytes, hash_record(hash));
  }, source_onnx);
}

Plan load_plan(const std::string& path) {
  return naming_file(path, "loading the plan", [&] { return read_plan(path); });
}

bool is_plan_file(const std::string& path) {
  // Scans the top-level fields for a metadata entry with the version key, skipping everything else
  // (seeking over the graph), so that this costs a few reads even for a large plan.
  namespace wire = google::protobuf::internal;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  google::protobuf::io::FileInputStream raw(fd);
  raw.SetCloseOnDelete(true);
  google::protobuf::io::CodedInputStream in(&raw);
  in.SetTotalBytesLimit(INT_MAX);
  constexpr int kMetadataField = onnx::ModelProto::kMetadataPropsFieldNumber;
  constexpr uint32_t kMaxVersionEntry = 1024;
  for (uint32_t tag; (tag = in.ReadTag()) != 0;) {
    if (wire::WireFormatLite::GetTagFieldNumber(tag) == kMetadataField &&
        wire::WireFormatLite::GetTagWireType(tag) == wire::WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t len = 0;
      if (!in.ReadVarint32(&len) || len > static_cast<uint32_t>(INT_MAX)) return false;
      if (len > kMaxVersionEntry) {  // recipe text and the like: not the entry sought
        if (!in.Skip(static_cast<int>(len))) return false;
        continue;
      }
      std::string entry_bytes;
      if (!in.ReadString(&entry_bytes, static_cast<int>(len))) return false;
      onnx::StringStringEntryProto entry;
      if (entry.ParseFromString(entry_bytes) && entry.key() == kKeyVersion) return true;
    } else if (!wire::WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return false;
}

}  // namespace fc::frontend
