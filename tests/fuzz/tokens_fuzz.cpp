// Fuzzes the token-file reader (runtime/data/tokens.h): a .npy header (when the input starts with
// one) or a raw id array of the dtype the first byte picks, then a vocabulary check and the
// evaluation windows a run would read.
#include <cstring>
#include <vector>

#include "runtime/data/tokens.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kDtypes[] = {"uint8", "uint16", "int32"};
  const char* dtype = kDtypes[data[0] % 3];
  const bool npy = size > 7 && std::memcmp(data + 1, "\x93NUMPY", 6) == 0;
  const std::string path = fc::fuzz::write_file(npy ? "tokens.npy" : "tokens.bin", data + 1, size - 1);
  fc::fuzz::only_fc_errors([&] {
    fc::runtime::data::TokenFile tokens(path, dtype);
    tokens.check_vocabulary(256);
    const int64_t block = 4;
    std::vector<int64_t> window(block + 1);
    for (int64_t o = 0; o + block + 1 <= tokens.size() && o < 64 * block; o += block) tokens.read(o, block + 1, window.data());
  });
  return 0;
}
