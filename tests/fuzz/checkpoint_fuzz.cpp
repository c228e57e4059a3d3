// Fuzzes checkpoint loading (runtime/checkpoint.h). The header carries a CRC-32 that a mutated
// input would fail at once; the target writes the matching CRC into the input's frame, so the
// fuzzer reaches the header's parsing and the tensor table's offsets, sizes and dtypes.
#include <zlib.h>

#include <cstring>
#include <vector>

#include "runtime/checkpoint.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  // Frame: magic (8) | u64 header length | u32 header CRC-32 | header.
  if (bytes.size() >= 20) {
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data() + 8, 8);
    if (header_len <= bytes.size() - 20) {
      const uint32_t crc = static_cast<uint32_t>(crc32_z(crc32_z(0, nullptr, 0), bytes.data() + 20, header_len));
      std::memcpy(bytes.data() + 16, &crc, 4);
    }
  }
  const std::string path = fc::fuzz::write_file("step-00000001.fcckpt", bytes.data(), bytes.size());
  fc::fuzz::only_fc_errors([&] { fc::runtime::load_checkpoint(path); });
  return 0;
}
