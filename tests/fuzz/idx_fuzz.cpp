// Fuzzes the IDX readers (runtime/data/idx.h), plain and gzip: the first input byte picks images
// or labels and whether the rest is stored gzip-compressed (so the corpus needs no .gz twins).
#include <zlib.h>

#include <vector>

#include "runtime/data/idx.h"
#include "tests/fuzz/fuzz_util.h"

namespace {
std::vector<uint8_t> gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<uint8_t> out(deflateBound(&z, size) + 32);
  z.next_in = const_cast<uint8_t*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool labels = data[0] & 1, compress = data[0] & 2;
  ++data, --size;
  std::string path;
  if (compress) {
    const std::vector<uint8_t> gz = gzip(data, size);
    // Truncating the compressed stream too (bit 2) reaches zlib's error paths.
    path = fc::fuzz::write_file("input.gz", gz.data(), (data[-1] & 4) ? gz.size() / 2 : gz.size());
  } else {
    path = fc::fuzz::write_file("input", data, size);
  }
  fc::fuzz::only_fc_errors([&] {
    if (labels) fc::runtime::data::read_idx_labels(path);
    else fc::runtime::data::read_idx_images(path);
  });
  return 0;
}
