// IDX reading (see idx.h): gzip through zlib's gz* stream API, then a header check that rejects
// the wrong kind of file (labels given as images), truncation and trailing bytes, each as one line
// naming the file.
#include "runtime/data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "ir/checked_size.h"
#include "support/error.h"

namespace fc::runtime::data {

namespace {

// zlib's message without the "<path>: " it puts in front.
std::string gz_message(gzFile f, const std::string& path, int* code) {
  std::string m = gzerror(f, code);
  if (m.rfind(path + ": ", 0) == 0) m.erase(0, path.size() + 2);
  return m;
}

}  // namespace

std::vector<uint8_t> read_file_maybe_gz(const std::string& path) {
  std::error_code ec;
  FC_CHECK(std::filesystem::is_regular_file(path, ec), path, ": file not found");
  gzFile f = gzopen(path.c_str(), "rb");
  FC_CHECK(f != nullptr, path, ": cannot open (", std::strerror(errno), ")");
  gzbuffer(f, 1 << 17);
  std::vector<uint8_t> buf;
  constexpr size_t kChunk = size_t{1} << 20;
  for (;;) {
    size_t used = buf.size();
    buf.resize(used + kChunk);
    int n = gzread(f, buf.data() + used, static_cast<unsigned>(kChunk));
    if (n < 0) {
      int code = 0;
      std::string why = gz_message(f, path, &code);
      gzclose(f);
      if (code == Z_ERRNO) fail(path, ": cannot read (", std::strerror(errno), ")");
      fail(path, ": corrupt gzip data (", why, ")");
    }
    buf.resize(used + static_cast<size_t>(n));
    if (n == 0) break;
  }
  // A gzip stream cut short reads as a short file; zlib reports it here and at close.
  int code = Z_OK;
  std::string why = gz_message(f, path, &code);
  int closed = gzclose(f);
  if (code != Z_OK) fail(path, ": corrupt or truncated gzip data (", why, ")");
  if (closed != Z_OK) fail(path, ": corrupt or truncated gzip data");
  return buf;
}

namespace {

struct IdxView {
  std::vector<int64_t> dims;
  const uint8_t* data = nullptr;
};

uint32_t big_endian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Checks the header against the expected uint8 kind and the file size against the dims.
IdxView parse_idx(const std::vector<uint8_t>& buf, const std::string& path, size_t rank, const char* what) {
  uint32_t want_magic = 0x800u | static_cast<uint32_t>(rank);
  FC_CHECK(buf.size() >= 4, path, ": not an IDX file (", buf.size(), " bytes)");
  uint32_t magic = big_endian32(buf.data());
  char hex[3][16];
  std::snprintf(hex[0], sizeof hex[0], "0x%08X", magic);
  std::snprintf(hex[1], sizeof hex[1], "0x%08X", want_magic);
  std::snprintf(hex[2], sizeof hex[2], "0x%02X", (magic >> 8) & 0xFFu);
  FC_CHECK((magic >> 16) == 0, path, ": not an IDX file (magic ", hex[0], ")");
  FC_CHECK(((magic >> 8) & 0xFF) == 0x08, path, ": IDX element type ", hex[2],
           " is not supported (only unsigned bytes)");
  FC_CHECK(magic == want_magic, path, ": expected IDX ", what, " (magic ", hex[1], "), got magic ", hex[0]);
  size_t header = 4 + 4 * rank;
  FC_CHECK(buf.size() >= header, path, ": truncated IDX header");
  IdxView v;
  for (size_t i = 0; i < rank; ++i) v.dims.push_back(big_endian32(buf.data() + 4 + 4 * i));
  const size_t count = static_cast<size_t>(ir::checked_numel(v.dims, path));
  size_t have = buf.size() - header;
  FC_CHECK(have >= count, path, ": truncated: the header promises ", count, " bytes of ", what, ", the file has ",
           have);
  FC_CHECK(have == count, path, ": ", have - count, " unexpected bytes after the ", what, " (corrupt file?)");
  v.data = buf.data() + header;
  return v;
}

}  // namespace

ir::Tensor read_idx_images(const std::string& path) {
  std::vector<uint8_t> buf = read_file_maybe_gz(path);
  IdxView v = parse_idx(buf, path, 3, "images");
  // x: [N, 1, rows, cols]; the division (not a multiply by 1/255) matches torchvision's ToTensor.
  ir::Tensor x(ir::DType::F32, {v.dims[0], 1, v.dims[1], v.dims[2]});
  float* out = x.data<float>();
  for (size_t i = 0, n = x.numel(); i < n; ++i) out[i] = static_cast<float>(v.data[i]) / 255.0f;
  return x;
}

ir::Tensor read_idx_labels(const std::string& path) {
  std::vector<uint8_t> buf = read_file_maybe_gz(path);
  IdxView v = parse_idx(buf, path, 1, "labels");
  ir::Tensor y(ir::DType::I64, {v.dims[0]});
  int64_t* out = y.data<int64_t>();
  for (int64_t i = 0; i < v.dims[0]; ++i) out[i] = v.data[i];
  return y;
}

}  // namespace fc::runtime::data
