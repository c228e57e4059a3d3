#include "runtime/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <regex>
#include <sstream>
#include <string_view>
#include <vector>

#include "ir/atomic_file.h"
#include "ir/checked_size.h"
#include "support/error.h"
#include "runtime/fault_injection.h"

namespace fc::runtime {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'F', 'C', 'C', 'K', 'P', 'T', '0', '2'};
constexpr char kMagicV1[8] = {'F', 'C', 'C', 'K', 'P', 'T', '0', '1'};
constexpr uint64_t kPreamble = 8 + 8 + 4;  // magic, header length, header CRC
constexpr uint64_t kMaxHeader = 64u << 20;

uint32_t crc32_of(const void* data, size_t n) {
  return static_cast<uint32_t>(::crc32_z(::crc32_z(0, nullptr, 0), static_cast<const Bytef*>(data), n));
}

std::string json_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    r += c;
  }
  return r;
}

// Reads n bytes at offset; false at end of file or on an error (errno set).
bool read_at(int fd, void* dst, uint64_t n, uint64_t offset) {
  char* p = static_cast<char*>(dst);
  while (n) {
    const ssize_t r = ::pread(fd, p, std::min<uint64_t>(n, uint64_t{1} << 30), static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<uint64_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

// Reads the header, JSON in exactly the layout save_checkpoint_atomic writes, front to back. By hand:
// std::regex recursed once per character matched and overflowed the stack on a long name.
class HeaderScanner {
 public:
  HeaderScanner(const std::string& text, const std::string& path) : s_(text), path_(path) {}
  bool accept(std::string_view literal) {
    if (s_.compare(pos_, literal.size(), literal) != 0) return false;
    pos_ += literal.size();
    return true;
  }
  void expect(std::string_view literal) {
    if (!accept(literal)) malformed();
  }
  uint64_t number() {
    uint64_t v = 0;
    const auto r = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), v);
    if (r.ec != std::errc()) malformed();
    pos_ = static_cast<size_t>(r.ptr - s_.data());
    return v;
  }
  int64_t int64() {
    const uint64_t v = number();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) malformed();
    return static_cast<int64_t>(v);
  }
  std::string string() {  // "..." with json_escape's \" and \\ undone
    expect("\"");
    std::string r;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && ++pos_ == s_.size()) break;
      r += s_[pos_++];
    }
    expect("\"");
    return r;
  }

 private:
  [[noreturn]] void malformed() const { fail(path_, ": malformed checkpoint header (at byte ", pos_, ")"); }
  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void save_checkpoint_atomic(const std::string& path, const Checkpoint& ckpt) {
  std::ostringstream h;
  uint64_t data_bytes = 0;
  for (const auto& [name, t] : ckpt.tensors) data_bytes += t.nbytes();
  h << "{\"step\": " << ckpt.step << ", \"seed\": " << ckpt.seed << ", \"plan_hash\": \""
    << json_escape(ckpt.plan_hash) << "\", \"data_bytes\": " << data_bytes << ", \"tensors\": [";
  uint64_t offset = 0;
  bool first = true;
  for (const auto& [name, t] : ckpt.tensors) {
    h << (first ? "" : ", ") << "{\"name\": \"" << json_escape(name) << "\", \"dtype\": \"" << ir::dtype_name(t.dtype())
      << "\", \"dims\": [";
    for (size_t i = 0; i < t.rank(); ++i) h << (i ? ", " : "") << t.dim(i);
    h << "], \"offset\": " << offset << ", \"bytes\": " << t.nbytes() << ", \"crc32\": " << crc32_of(t.raw(), t.nbytes())
      << "}";
    offset += t.nbytes();
    first = false;
  }
  h << "]}\n";
  const std::string header = h.str();
  const uint64_t len = header.size();
  const uint32_t header_crc = crc32_of(header.data(), header.size());

  ir::AtomicFile f(path);
  f.write(kMagic, 8);
  f.write(&len, 8);
  f.write(&header_crc, 4);
  f.write(header);
  for (const auto& [name, t] : ckpt.tensors) {
    f.write(t.raw(), t.nbytes());
    // Test-only fault injection (issue 22): a writer killed here leaves a partial temporary file.
    if (&t == &ckpt.tensors.begin()->second) fault_point(FaultPhase::checkpoint);
  }
  f.commit();
}

Checkpoint load_checkpoint(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  FC_CHECK(f.fd >= 0, path, ": cannot open checkpoint: ", std::strerror(errno));
  struct stat st {};
  FC_CHECK(::fstat(f.fd, &st) == 0, path, ": cannot read checkpoint: ", std::strerror(errno));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  char magic[8] = {};
  uint64_t len = 0;
  uint32_t header_crc = 0;
  FC_CHECK(size >= kPreamble && read_at(f.fd, magic, 8, 0) && read_at(f.fd, &len, 8, 8) &&
               read_at(f.fd, &header_crc, 4, 16),
           path, ": truncated (", size, " bytes, shorter than a checkpoint's preamble)");
  FC_CHECK(std::memcmp(magic, kMagicV1, 8) != 0, path,
           ": written by an older fcrun without checksums (FCCKPT01); it cannot be verified");
  FC_CHECK(std::memcmp(magic, kMagic, 8) == 0, path, ": not an fcrun checkpoint (bad magic bytes)");
  FC_CHECK(len <= kMaxHeader, path, ": corrupt (header length ", len, ")");
  FC_CHECK(kPreamble + len <= size, path, ": truncated (", size, " bytes; its header alone needs ", kPreamble + len, ")");
  std::string header(len, '\0');
  FC_CHECK(read_at(f.fd, header.data(), len, kPreamble), path, ": cannot read the header: ", std::strerror(errno));
  FC_CHECK(crc32_of(header.data(), header.size()) == header_crc, path, ": corrupt (the header fails its CRC-32)");
  const uint64_t data_start = kPreamble + len;

  Checkpoint c;
  HeaderScanner h(header, path);
  h.expect("{\"step\": ");
  c.step = h.int64();
  h.expect(", \"seed\": ");
  c.seed = h.number();
  h.expect(", \"plan_hash\": ");
  c.plan_hash = h.string();
  h.expect(", \"data_bytes\": ");
  const uint64_t data_bytes = h.number();
  h.expect(", \"tensors\": [");
  FC_CHECK(size >= data_start + data_bytes, path, ": truncated (", size, " bytes of ", data_start + data_bytes, ")");
  FC_CHECK(size == data_start + data_bytes, path, ": ", size - data_start - data_bytes,
           " bytes more than its header describes");
  for (bool first = true; !h.accept("]}"); first = false) {
    if (!first) h.expect(", ");
    h.expect("{\"name\": ");
    const std::string name = h.string();
    h.expect(", \"dtype\": ");
    const ir::DType dtype = ir::dtype_from_name(h.string());
    h.expect(", \"dims\": [");
    std::vector<int64_t> dims;
    if (!h.accept("]")) {
      do dims.push_back(h.int64());
      while (h.accept(", "));
      h.expect("]");
    }
    h.expect(", \"offset\": ");
    const uint64_t offset = h.number();
    h.expect(", \"bytes\": ");
    const uint64_t bytes = h.number();
    h.expect(", \"crc32\": ");
    const uint64_t crc = h.number();
    h.expect("}");
    // Sizes are checked against the header's totals before anything is allocated.
    FC_CHECK(dtype != ir::DType::Undefined &&
                 static_cast<uint64_t>(ir::checked_nbytes(dtype, dims, path + ": tensor '" + name + "'")) == bytes &&
                 offset <= data_bytes && bytes <= data_bytes - offset,
             path, ": tensor '", name, "' has an inconsistent size or offset");
    ir::Tensor t(dtype, dims);
    FC_CHECK(read_at(f.fd, t.raw(), bytes, data_start + offset), path, ": cannot read tensor '", name, "'");
    FC_CHECK(crc32_of(t.raw(), bytes) == crc, path, ": corrupt (tensor '", name, "' fails its CRC-32, bytes ",
             data_start + offset, "..", data_start + offset + bytes, ")");
    t.canonicalize_bools();
    c.tensors.emplace(name, std::move(t));
  }
  return c;
}

std::string checkpoint_path(const std::string& dir, int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%08lld.fcckpt", static_cast<long long>(step));
  return (fs::path(dir) / buf).string();
}

namespace {
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> r;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return r;
  std::regex name("step-(\\d{1,18})\\.fcckpt");
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    std::string fn = e.path().filename().string();
    if (std::regex_match(fn, m, name)) r.emplace_back(std::stoll(m[1]), e.path().string());
  }
  std::sort(r.begin(), r.end());
  return r;
}
}  // namespace

ResumePoint newest_intact_checkpoint(const std::string& dir) {
  ResumePoint r;
  auto all = list_checkpoints(dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    try {
      r.checkpoint = load_checkpoint(it->second);
      r.path = it->second;
      return r;
    } catch (const fc::Error& e) {
      r.damaged.push_back(e.what());
    }
  }
  return r;
}

void prune_checkpoints(const std::string& dir, int keep) {
  auto all = list_checkpoints(dir);
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < all.size(); ++i) fs::remove(all[i].second);
  // A writer killed mid-write leaves its temporary file ("step-N.fcckpt.tmp.<pid>"); rank 0 alone
  // writes checkpoints, so any such file now is a leftover.
  std::error_code ec;
  std::regex tmp("step-\\d+\\.fcckpt\\.tmp\\.\\d+");
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (std::regex_match(e.path().filename().string(), tmp)) fs::remove(e.path(), ec);
}

}  // namespace fc::runtime
