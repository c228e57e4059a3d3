// Memory-mapped token files and training window offsets (see tokens.h).
#include "runtime/data/tokens.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "support/error.h"
#include "runtime/data/dataset.h"
#include "runtime/data/random.h"
#include "runtime/npy.h"

namespace fc::runtime::data {

TokenFile::TokenFile(const std::string& path, const std::string& dtype) : path_(path) {
  size_t offset = 0;
  std::string type = dtype;
  const bool npy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  if (npy) {
    const NpyHeader h = read_npy_header(path);
    // The .npy's own element type wins over token_dtype.
    if (h.descr == "|u1") type = "uint8";
    else if (h.descr == "<u2") type = "uint16";
    else if (h.descr == "<i4") type = "int32";
    else fail(path, ": token ids of npy dtype '", h.descr, "' are not supported (use uint8, uint16 or int32)");
    FC_CHECK(h.dims.size() == 1, path, ": expected a 1-D array of token ids, got ", h.dims.size(), " dimensions");
    offset = h.data_offset;
  }
  FC_CHECK(type == "uint8" || type == "uint16" || type == "int32", path, ": unknown token_dtype '", type, "'");
  width_ = type == "uint8" ? 1 : type == "uint16" ? 2 : 4;
  is_signed_ = type == "int32";

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  FC_CHECK(fd >= 0, path, ": cannot open file (", std::strerror(errno), ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    fail(path, ": cannot stat file (", std::strerror(e), ")");
  }
  const size_t bytes = static_cast<size_t>(st.st_size);
  if (bytes <= offset) {
    ::close(fd);
    fail(path, ": no token ids in the file");
  }
  const size_t data_bytes = bytes - offset;
  if (data_bytes % static_cast<size_t>(width_) != 0) {
    ::close(fd);
    fail(path, ": ", data_bytes, " bytes of data is not a whole number of ", type, " ids (", width_, " bytes each)");
  }
  map_ = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  const int e = errno;
  ::close(fd);  // the mapping keeps the file
  FC_CHECK(map_ != MAP_FAILED, path, ": cannot map file (", std::strerror(e), ")");
  map_bytes_ = bytes;
  ids_ = static_cast<const unsigned char*>(map_) + offset;
  count_ = static_cast<int64_t>(data_bytes / static_cast<size_t>(width_));
}

TokenFile::~TokenFile() {
  if (map_ && map_ != MAP_FAILED) ::munmap(map_, map_bytes_);
}

// Little-endian, whatever the host: ids are assembled byte by byte (the compiler makes it one load).
int64_t TokenFile::id(int64_t i) const {
  const unsigned char* p = ids_ + i * width_;
  if (width_ == 1) return p[0];
  if (width_ == 2) return p[0] | (p[1] << 8);
  const uint32_t u = p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24);
  return is_signed_ ? static_cast<int64_t>(static_cast<int32_t>(u)) : static_cast<int64_t>(u);
}

void TokenFile::read(int64_t offset, int64_t n, int64_t* out) const {
  FC_CHECK(offset >= 0 && n >= 0 && offset + n <= count_, path_, ": ids [", offset, ", ", offset + n,
           ") outside the file's ", count_);
  for (int64_t i = 0; i < n; ++i) out[i] = id(offset + i);
}

void TokenFile::check_vocabulary(int64_t vocab) const {
  for (int64_t i = 0; i < count_; ++i) {
    const int64_t v = id(i);
    FC_CHECK(v >= 0 && v < vocab, path_, ": token id ", v, " at offset ", i, " is outside the model's vocabulary [0, ",
             vocab, ")");
  }
}

int64_t token_window_offset(uint64_t seed, int64_t step, int64_t k, int64_t tokens, int64_t block) {
  const int64_t starts = tokens - block;  // offsets 0 .. tokens - block - 1 leave room for the last label
  FC_CHECK(starts > 0, "token windows: ", tokens, " tokens hold no window of ", block, " + 1");
  const uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(step)) ^ static_cast<uint64_t>(k));
  return static_cast<int64_t>(h % static_cast<uint64_t>(starts));
}

}  // namespace fc::runtime::data
