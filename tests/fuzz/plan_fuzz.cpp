// Fuzzes plan loading (frontend/plan_io.h). A plan ends with its content hash (FNV-1a of the bytes
// before it), which a mutated input would fail at once; so the input is the plan without that
// record and the target appends a matching one, letting the fuzzer reach what the hash guards:
// the metadata, the training graph's conversion back to IR and the import of the main graph.
#include "frontend/plan_io.h"
#include "ir/content_hash.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string hash = fc::ir::hex64(fc::ir::fnv1a64(bytes));
  // ModelProto.metadata_props (field 14) += StringStringEntryProto{key (1): "fc.hash", value (2): hash}.
  bytes += std::string("\x72\x1b\x0a\x07" "fc.hash" "\x12\x10", 13) + hash;
  const std::string path = fc::fuzz::write_file("model.fcplan", bytes.data(), bytes.size());
  fc::fuzz::only_fc_errors([&] { fc::frontend::load_plan(path); });
  return 0;
}
