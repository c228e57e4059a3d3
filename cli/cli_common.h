// What both executables share: the top-level error boundary, a small flag parser, model loading.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frontend/onnx_import.h"
#include "ir/graph.h"

namespace fc::cli {

// Runs `body`, turning any fc::Error or std::exception into "<prog>: error: <message>" and exit code 1.
int guarded_main(const char* prog, const std::function<int()>& body);

// Command-line arguments after the subcommand: positionals and --flags (with values where the
// flag is declared to take one). Unknown flags are errors naming the flag.
class Args {
 public:
  Args(const std::vector<std::string>& argv, const std::vector<std::string>& value_flags,
       const std::vector<std::string>& bool_flags, const std::string& command);
  const std::vector<std::string>& positionals() const { return positionals_; }
  bool has(const std::string& flag) const { return values_.count(flag) != 0; }
  std::optional<std::string> get(const std::string& flag) const;  // last occurrence
  std::vector<std::string> all(const std::string& flag) const;    // every occurrence, in order

 private:
  std::vector<std::string> positionals_;
  std::multimap<std::string, std::string> values_;
  std::vector<std::pair<std::string, std::string>> ordered_;
};

// Loads a model: ONNX (.onnx) through the frontend, or text IR (.ir/.fcir) through the parser.
ir::Graph load_model(const std::string& path, const frontend::ImportOptions& options = {});
// Whether `path` names an ONNX TensorProto (or SequenceProto) file: .pb; any other name is NumPy .npy.
bool is_tensor_proto_path(const std::string& path);
// One tensor: an ONNX TensorProto file (.pb; every element type, bfloat16 included) or NumPy .npy
// (any other name).
ir::Tensor load_tensor_file(const std::string& path);
void save_tensor_file(const std::string& path, const ir::Tensor& t);
std::string read_file(const std::string& path);
int parse_int(const std::string& text, const std::string& what);
// A finite number > 0 (the whole text); else fc::Error "WHAT: expected a positive number, got 'TEXT'".
double parse_positive(const std::string& text, const std::string& what);

}  // namespace fc::cli
