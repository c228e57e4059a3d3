#include "cli/cli_common.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <new>
#include <sstream>

#include "frontend/onnx_import.h"
#include "frontend/tensor_proto_file.h"
#include "support/error.h"
#include "ir/op_registry.h"
#include "ir/text_format.h"
#include "runtime/npy.h"

namespace fc::cli {

int guarded_main(const char* prog, const std::function<int()>& body) {
  try {
    return body();
  } catch (const fc::Error& e) {
    std::cerr << prog << ": error: " << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << prog << ": error: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << prog << ": error: " << e.what() << "\n";
  }
  return 1;
}

Args::Args(const std::vector<std::string>& argv, const std::vector<std::string>& value_flags,
           const std::vector<std::string>& bool_flags, const std::string& command) {
  auto is_in = [](const std::vector<std::string>& v, const std::string& s) {
    for (const auto& x : v)
      if (x == s) return true;
    return false;
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::string flag = a, value;
      bool inline_value = false;
      if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
        flag = a.substr(0, eq);
        value = a.substr(eq + 1);
        inline_value = true;
      }
      if (is_in(value_flags, flag)) {
        if (!inline_value) {
          FC_CHECK(i + 1 < argv.size(), command, ": flag ", flag, " needs a value");
          value = argv[++i];
        }
      } else if (!is_in(bool_flags, flag)) {
        fail(command, ": unknown flag '", flag, "' (see --help)");
      }
      values_.emplace(flag, value);
      ordered_.emplace_back(flag, value);
    } else {
      positionals_.push_back(a);
    }
  }
}

std::optional<std::string> Args::get(const std::string& flag) const {
  std::optional<std::string> r;
  for (const auto& [f, v] : ordered_)
    if (f == flag) r = v;
  return r;
}

std::vector<std::string> Args::all(const std::string& flag) const {
  std::vector<std::string> r;
  for (const auto& [f, v] : ordered_)
    if (f == flag) r.push_back(v);
  return r;
}

bool is_tensor_proto_path(const std::string& path) {
  return path.size() >= 3 && path.compare(path.size() - 3, 3, ".pb") == 0;
}

ir::Tensor load_tensor_file(const std::string& path) {
  return is_tensor_proto_path(path) ? frontend::load_tensor_proto(path) : runtime::load_npy(path);
}

void save_tensor_file(const std::string& path, const ir::Tensor& t) {
  if (is_tensor_proto_path(path)) frontend::save_tensor_proto(path, t);
  else runtime::save_npy(path, t);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FC_CHECK(f, path, ": cannot open file");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

ir::Graph load_model(const std::string& path, const frontend::ImportOptions& options) {
  auto ends_with = [&](const std::string& s) { return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0; };
  if (ends_with(".ir") || ends_with(".fcir")) {
    ir::Graph g = ir::parse_graph(read_file(path), path);
    return g;
  }
  return frontend::import_onnx(path, options);
}

int parse_int(const std::string& text, const std::string& what) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  FC_CHECK(ec == std::errc() && p == text.data() + text.size(), what, ": expected an integer, got '", text, "'");
  return v;
}

double parse_positive(const std::string& text, const std::string& what) {
  double x = 0;
  size_t used = 0;
  try {
    x = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  FC_CHECK(used == text.size() && std::isfinite(x) && x > 0, what, ": expected a positive number, got '", text, "'");
  return x;
}

}  // namespace fc::cli
