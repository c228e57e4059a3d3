// Reading an ONNX model: protobuf parse of the (small) .onnx file, validation of external-data
// references, then the ONNX checker where the onnx library knows the model's opset.
//
// Weights larger than protobuf's 2 GiB message limit only exist as external data; those bytes are
// never put into the proto here: tensor_from_onnx reads them straight into ir::Tensor storage.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <onnx/checker.h>
#include <onnx/defs/schema.h>

#include <climits>
#include <fcntl.h>
#include <unistd.h>

#include "frontend/onnx_internal.h"
#include "support/error.h"

namespace fc::frontend::detail {

namespace fs = std::filesystem;

namespace {

// Collapses a multi-line library message into one line.
std::string one_line(std::string s) {
  std::string r;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !r.empty();
      continue;
    }
    if (space) r += ' ';
    space = false;
    r += c;
  }
  return r;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void parse_file(const std::string& path, onnx::ModelProto& model) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(path, ": cannot open");
  uintmax_t size = fs::file_size(path, ec);
  if (ec) fail(path, ": cannot open");
  if (size == 0) fail(path, ": not a valid ONNX model (empty file)");
  if (size > static_cast<uintmax_t>(INT_MAX))
    fail(path, ": not a valid ONNX model (", size, " bytes; models over 2 GiB must keep their weights as external data)");
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail(path, ": cannot open");
  google::protobuf::io::FileInputStream raw(f.fd);
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT_MAX);
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    fail(path, ": not a valid ONNX model (protobuf parse error; truncated or not an ONNX file?)");
  if (raw.GetErrno() != 0) fail(path, ": cannot read (errno ", raw.GetErrno(), ")");
  // Arbitrary bytes sometimes parse as a message of unknown fields: require the essentials.
  if (model.ir_version() <= 0 || !model.has_graph() || model.opset_import_size() == 0)
    fail(path, ": not a valid ONNX model (missing ir_version, graph or opset_import)");
}

bool is_inside(const fs::path& dir, const fs::path& p) {
  auto d = dir.begin(), q = p.begin();
  for (; d != dir.end(); ++d, ++q) {
    if (d->empty()) continue;  // trailing separator
    if (q == p.end() || *d != *q) return false;
  }
  return true;
}

// Checks one external-data reference and rewrites its location to the resolved absolute path.
void resolve_external(onnx::TensorProto& t, const fs::path& model_dir, const std::string& path) {
  onnx::StringStringEntryProto* loc = nullptr;
  for (auto& e : *t.mutable_external_data())
    if (e.key() == "location") loc = &e;
  FC_CHECK(loc, path, ": tensor '", t.name(), "' has external data without a location");
  fs::path rel(loc->value());
  FC_CHECK(!rel.empty(), path, ": tensor '", t.name(), "' has an empty external data location");
  FC_CHECK(!rel.is_absolute(), path, ": tensor '", t.name(), "' external data location '", loc->value(),
           "' is absolute; it must be a relative path inside the model's folder");
  std::error_code ec;
  fs::path target = fs::weakly_canonical(model_dir / rel, ec);
  FC_CHECK(!ec, path, ": tensor '", t.name(), "' external data '", loc->value(), "': ", ec.message());
  FC_CHECK(is_inside(model_dir, target), path, ": tensor '", t.name(), "' external data location '", loc->value(),
           "' resolves to ", target.string(), ", outside the model's folder ", model_dir.string());
  FC_CHECK(fs::is_regular_file(target, ec), path, ": tensor '", t.name(), "' external data file '", loc->value(),
           "' cannot be opened");
  loc->set_value(target.string());
}

void resolve_all_external(onnx::GraphProto& g, const fs::path& model_dir, const std::string& path) {
  for (auto& t : *g.mutable_initializer())
    if (t.data_location() == onnx::TensorProto::EXTERNAL) resolve_external(t, model_dir, path);
  for (auto& n : *g.mutable_node())
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_t() && a.t().data_location() == onnx::TensorProto::EXTERNAL)
        resolve_external(*a.mutable_t(), model_dir, path);
      if (a.has_g()) resolve_all_external(*a.mutable_g(), model_dir, path);
    }
}

}  // namespace

int onnx_library_newest_opset() {
  const auto& ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = ranges.find(onnx::ONNX_DOMAIN);
  return it == ranges.end() ? 0 : it->second.second;
}

void parse_model_file(const std::string& path, onnx::ModelProto& model) { parse_file(path, model); }

void resolve_external_data(onnx::ModelProto& model, const std::string& path) {
  std::error_code ec;
  fs::path model_dir = fs::weakly_canonical(fs::absolute(path, ec).parent_path(), ec);
  FC_CHECK(!ec, path, ": cannot resolve the model's folder: ", ec.message());
  resolve_all_external(*model.mutable_graph(), model_dir, path);
}

LoadedModel load_model(const std::string& path, const std::function<void(const LoadedModel&)>& before_checker) {
  onnx::ModelProto model;
  parse_file(path, model);
  return load_parsed_model(std::move(model), path, before_checker);
}

LoadedModel load_parsed_model(onnx::ModelProto model, const std::string& path,
                              const std::function<void(const LoadedModel&)>& before_checker) {
  LoadedModel m;
  m.path = path;
  m.model = std::move(model);

  bool has_default = false;
  for (const auto& o : m.model.opset_import()) {
    std::string domain = o.domain() == "ai.onnx" ? "" : o.domain();
    m.domain_opsets[domain] = static_cast<int>(o.version());
    if (domain.empty()) {
      has_default = true;
      m.opset = static_cast<int>(o.version());
    }
  }
  FC_CHECK(has_default, path, ": the model imports no opset of the default ONNX domain");
  // Opsets outside what we read are refused per node by the importer (prescan), naming the node.

  resolve_external_data(m.model, path);

  if (before_checker) before_checker(m);

  // The onnx library's checker knows the opsets of its release only (Debian's 1.12: up to 17); a
  // newer model is verified by our own import instead (every node's schema, arity, attributes and
  // shape function). Its shape inference is not used at all: our shape functions type every value
  // and are compared with what the file declares, and 1.12's inference is out of date for some
  // ops it knows (MaxPool's ceil_mode output size).
  if (m.opset <= onnx_library_newest_opset()) {
    try {
      onnx::checker::check_model(m.model);
    } catch (const std::exception& e) {
      fail(path, ": invalid ONNX model: ", one_line(e.what()));
    }
  }
  return m;
}

}  // namespace fc::frontend::detail
