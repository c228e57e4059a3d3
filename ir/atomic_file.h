// Writing a file so that a reader finds either its old content or the whole new content, across a
// crash, a kill or a full disk: the bytes go to "<path>.tmp.<pid>" beside it, which is fsynced and
// renamed over `path`, and then the folder is fsynced so that the rename itself is durable. Any
// failure (ENOSPC, EDQUOT, EIO, at write, fsync or close) removes the temporary file, leaves `path`
// as it was and throws fc::Error naming `path` and the system's reason. One writer for every file
// whose loss would hurt: plans, checkpoints, the trained model.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fc::ir {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // creates the folder and the temporary file
  ~AtomicFile();                          // unless committed: closes and removes the temporary file
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  // fsync, close, rename over the path, fsync of the folder.
  void commit();

 private:
  [[noreturn]] void fail_with(const char* doing, int err);
  std::string path_, tmp_;
  int fd_ = -1;
};

void write_file_atomically(const std::string& path, std::string_view a, std::string_view b = {});

}  // namespace fc::ir
