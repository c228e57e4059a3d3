// Fuzzes the .npy reader (runtime/npy.h): header dictionary, shapes and sizes against the file.
#include "runtime/npy.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fc::fuzz::write_file("input.npy", data, size);
  fc::fuzz::only_fc_errors([&] { fc::runtime::load_npy(path); });
  return 0;
}
