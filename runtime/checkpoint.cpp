#include "runtime/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "ir/error.h"

namespace fc::runtime {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'F', 'C', 'C', 'K', 'P', 'T', '0', '1'};

void write_all(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    FC_CHECK(w > 0, path, ": write failed: ", std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

std::string json_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    r += c;
  }
  return r;
}

}  // namespace

void save_checkpoint_atomic(const std::string& path, const Checkpoint& ckpt) {
  std::ostringstream h;
  h << "{\"step\": " << ckpt.step << ", \"seed\": " << ckpt.seed << ", \"plan_hash\": \""
    << json_escape(ckpt.plan_hash) << "\", \"tensors\": [";
  uint64_t offset = 0;
  bool first = true;
  for (const auto& [name, t] : ckpt.tensors) {
    h << (first ? "" : ", ") << "{\"name\": \"" << json_escape(name) << "\", \"dtype\": \"" << ir::dtype_name(t.dtype())
      << "\", \"dims\": [";
    for (size_t i = 0; i < t.rank(); ++i) h << (i ? ", " : "") << t.dim(i);
    h << "], \"offset\": " << offset << ", \"bytes\": " << t.nbytes() << "}";
    offset += t.nbytes();
    first = false;
  }
  h << "]}\n";
  const std::string header = h.str();

  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  FC_CHECK(fd >= 0, tmp, ": cannot create checkpoint: ", std::strerror(errno));
  try {
    write_all(fd, kMagic, 8, tmp);
    uint64_t len = header.size();
    write_all(fd, &len, 8, tmp);
    write_all(fd, header.data(), header.size(), tmp);
    for (const auto& [name, t] : ckpt.tensors) write_all(fd, t.raw(), t.nbytes(), tmp);
    FC_CHECK(::fsync(fd) == 0, tmp, ": fsync failed: ", std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  FC_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, path, ": rename failed: ", std::strerror(errno));
  std::string dir = fs::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FC_CHECK(f, path, ": cannot open checkpoint");
  char magic[8];
  uint64_t len = 0;
  f.read(magic, 8);
  f.read(reinterpret_cast<char*>(&len), 8);
  FC_CHECK(f && std::memcmp(magic, kMagic, 8) == 0 && len < (64u << 20), path, ": not an fcrun checkpoint");
  std::string header(len, '\0');
  f.read(header.data(), static_cast<std::streamsize>(len));
  FC_CHECK(f, path, ": truncated checkpoint header");
  const std::streamoff data_start = f.tellg();

  Checkpoint c;
  std::smatch m;
  FC_CHECK(std::regex_search(header, m, std::regex("\"step\": (-?\\d+), \"seed\": (\\d+), \"plan_hash\": \"([^\"]*)\"")),
           path, ": malformed checkpoint header");
  c.step = std::stoll(m[1]);
  c.seed = std::stoull(m[2]);
  c.plan_hash = m[3];
  std::regex entry("\\{\"name\": \"((?:[^\"\\\\]|\\\\.)*)\", \"dtype\": \"(\\w+)\", \"dims\": \\[([^\\]]*)\\], "
                   "\"offset\": (\\d+), \"bytes\": (\\d+)\\}");
  for (auto it = std::sregex_iterator(header.begin(), header.end(), entry); it != std::sregex_iterator(); ++it) {
    const std::smatch& e = *it;
    std::string name;
    const std::string raw = e[1];
    for (size_t i = 0; i < raw.size(); ++i) name += raw[i] == '\\' && i + 1 < raw.size() ? raw[++i] : raw[i];
    std::vector<int64_t> dims;
    std::stringstream ds(e[3].str());
    std::string d;
    while (std::getline(ds, d, ','))
      if (d.find_first_not_of(' ') != std::string::npos) dims.push_back(std::stoll(d));
    ir::Tensor t(ir::dtype_from_name(e[2].str()), dims);
    FC_CHECK(t.nbytes() == std::stoull(e[5]), path, ": tensor '", name, "' size mismatch");
    f.seekg(data_start + static_cast<std::streamoff>(std::stoull(e[4])));
    f.read(static_cast<char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
    FC_CHECK(f, path, ": truncated checkpoint data for '", name, "'");
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
  std::regex name("step-(\\d+)\\.fcckpt");
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    std::string fn = e.path().filename().string();
    if (std::regex_match(fn, m, name)) r.emplace_back(std::stoll(m[1]), e.path().string());
  }
  std::sort(r.begin(), r.end());
  return r;
}
}  // namespace

std::optional<std::string> newest_checkpoint(const std::string& dir) {
  auto all = list_checkpoints(dir);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

void prune_checkpoints(const std::string& dir, int keep) {
  auto all = list_checkpoints(dir);
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < all.size(); ++i) fs::remove(all[i].second);
}

}  // namespace fc::runtime
