#include "frontend/onnx_import.h"

#include "ir/error.h"

namespace fc::frontend {

ir::Graph import_onnx(const std::string& path, const ImportOptions&) {
  fail(path, ": ONNX import not built yet");
}

}  // namespace fc::frontend
