#include "runtime/memory_limit.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "support/error.h"

namespace fc::runtime {

namespace {

std::optional<uint64_t> read_number(const std::string& path) {
  std::ifstream f(path);
  uint64_t v = 0;
  if (f >> v) return v;
  return std::nullopt;  // missing, or "max" (no limit)
}

// A "key value" line of a cgroup memory.stat file; 0 when absent.
uint64_t stat_value(const std::string& path, const std::string& key) {
  std::ifstream f(path);
  std::string k;
  uint64_t v = 0;
  while (f >> k >> v)
    if (k == key) return v;
  return 0;
}

std::optional<uint64_t> mem_available() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (f >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return std::nullopt;
}

// This process's cgroup folder for the memory controller: v2 ("0::/path") or v1 ("N:memory:/path").
std::optional<std::pair<std::string, bool>> cgroup_dir() {
  std::ifstream f("/proc/self/cgroup");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("0::", 0) == 0 && std::ifstream("/sys/fs/cgroup" + line.substr(3) + "/memory.max"))
      return std::make_pair("/sys/fs/cgroup" + line.substr(3), true);
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a != std::string::npos && b != std::string::npos) {
      std::stringstream controllers(line.substr(a + 1, b - a - 1));
      for (std::string c; std::getline(controllers, c, ',');)
        if (c == "memory") {
          // Inside a container the controller's root is often mounted at the cgroup itself.
          for (const std::string& d : {"/sys/fs/cgroup/memory" + line.substr(b + 1), std::string("/sys/fs/cgroup/memory")})
            if (std::ifstream(d + "/memory.limit_in_bytes")) return std::make_pair(d, false);
        }
    }
  }
  return std::nullopt;
}

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
  return buf;
}

}  // namespace

std::optional<AvailableMemory> available_memory() {
  std::optional<AvailableMemory> r;
  if (auto m = mem_available()) r = AvailableMemory{*m, "MemAvailable in /proc/meminfo"};
  if (auto cg = cgroup_dir()) {
    const auto& [dir, v2] = *cg;
    const std::string limit_file = dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes");
    auto limit = read_number(limit_file);
    auto used = read_number(dir + (v2 ? "/memory.current" : "/memory.usage_in_bytes"));
    if (limit && used) {
      // The usage counts page cache, of which the inactive part is reclaimed before the limit bites.
      const uint64_t cache = stat_value(dir + "/memory.stat", v2 ? "inactive_file" : "total_inactive_file");
      const uint64_t in_use = *used > cache ? *used - cache : 0;
      const uint64_t left = *limit > in_use ? *limit - in_use : 0;
      if (!r || left < r->bytes) r = AvailableMemory{left, "the cgroup limit " + limit_file};
    }
  }
  return r;
}

void check_fits_in_memory(uint64_t arena_bytes, uint64_t resident_bytes, const std::string& what) {
  const std::optional<AvailableMemory> avail = available_memory();
  if (!avail || arena_bytes <= avail->bytes) return;
  fail(what, " needs ", gib(arena_bytes), " of memory for its planned intermediates (beside ", gib(resident_bytes),
       " of weights and optimizer state already loaded), but only ", gib(avail->bytes), " are available (",
       avail->source, "); lower [train] batch_size or use a smaller model");
}

}  // namespace fc::runtime
