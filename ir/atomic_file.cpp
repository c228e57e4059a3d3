#include "ir/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "support/error.h"

namespace fc::ir {

namespace fs = std::filesystem;

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
  if (auto dir = fs::path(path_).parent_path(); !dir.empty()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    FC_CHECK(!ec, dir.string(), ": cannot create the folder: ", ec.message());
  }
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_with("cannot create a temporary file", errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::fail_with(const char* doing, int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  fail(path_, ": ", doing, ": ", std::strerror(err), "; nothing was replaced");
}

void AtomicFile::write(const void* data, size_t n) {
  FC_ASSERT(fd_ >= 0);
  const char* p = static_cast<const char*>(data);
  while (n) {
    const ssize_t w = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail_with("cannot write", w < 0 ? errno : ENOSPC);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicFile::commit() {
  FC_ASSERT(fd_ >= 0);
  if (::fsync(fd_) != 0) fail_with("cannot write (fsync)", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    fail(path_, ": cannot write (close): ", std::strerror(err), "; nothing was replaced");
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    fail(path_, ": cannot rename ", tmp_, " into place: ", std::strerror(err), "; nothing was replaced");
  }
  // The rename is an entry in the folder: without this fsync a power loss may undo it.
  const std::string dir = fs::path(path_).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomically(const std::string& path, std::string_view a, std::string_view b) {
  AtomicFile f(path);
  f.write(a);
  f.write(b);
  f.commit();
}

}  // namespace fc::ir
