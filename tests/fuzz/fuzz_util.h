// What the fuzz targets share. Our parsers read files, so each input is first written to a file in
// a folder that belongs to this process (removed at exit). A target calls the parser inside
// only_fc_errors: fc::Error is how bad input must end (the CLI prints it as one line); any other
// exception escapes and libFuzzer reports it as a crash, as it does sanitizer findings and aborts.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/error.h"

namespace fc::fuzz {

inline const std::string& work_dir() {
  // Never destroyed: the exit handler that removes the folder runs after static destructors would.
  static const std::string* dir = [] {
    auto* d = new std::string((std::filesystem::temp_directory_path() / "fc-fuzz-XXXXXX").string());
    if (!::mkdtemp(d->data())) std::abort();
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(work_dir(), ec); });
    return d;
  }();
  return *dir;
}

inline std::string write_file(const std::string& name, const void* data, size_t size) {
  const std::string path = work_dir() + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f.good()) std::abort();
  return path;
}

template <typename Parse>
void only_fc_errors(Parse&& parse) {
  try {
    parse();
  } catch (const fc::Error& e) {
    // FC_FUZZ_SHOW_ERRORS=1 prints them, to see how far a seed gets (a seed should mostly parse).
    static const bool show = std::getenv("FC_FUZZ_SHOW_ERRORS") != nullptr;
    if (show) std::fprintf(stderr, "fc::Error: %s\n", e.what());
  }
}

}  // namespace fc::fuzz
