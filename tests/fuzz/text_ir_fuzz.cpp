// Fuzzes the text IR parser (ir/text_format.h). What parses must also print and parse back to the
// same text (the format's round-trip contract), so the printer is fuzzed with it. Tensors are limited
// to 64 MiB: elided values parse as zeros, and the default 4 GiB limit lets a 40-byte input fill the
// fuzzer's 2 GiB memory budget by design.
#include "ir/text_format.h"
#include "tests/fuzz/fuzz_util.h"

constexpr size_t kMaxTensorBytes = size_t{64} << 20;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fc::fuzz::only_fc_errors([&] {
    const fc::ir::Graph g = fc::ir::parse_graph(text, "fuzz.fcir", kMaxTensorBytes);
    const std::string printed = fc::ir::print_graph(g);
    if (fc::ir::print_graph(fc::ir::parse_graph(printed, "printed.fcir", kMaxTensorBytes)) != printed) std::abort();
  });
  return 0;
}
