// Fuzzes ONNX model import (frontend/onnx_import.h) from bytes to IR: protobuf parsing, the ONNX
// checker and shape inference, normalisation, shape folding and our type inference.
#include "frontend/onnx_import.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fc::fuzz::write_file("model.onnx", data, size);
  fc::fuzz::only_fc_errors([&] { fc::frontend::import_onnx(path); });
  return 0;
}
