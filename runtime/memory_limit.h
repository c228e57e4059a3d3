// The memory this process may still allocate, and the check that a step's planned arena fits in it:
// a plan that needs more than the machine (or the job's cgroup) has is refused at plan start with
// the figures, before anything is allocated, rather than ended later by the OOM killer.
//
// Available = MemAvailable from /proc/meminfo, or what is left under the cgroup's memory limit
// (v2: memory.max - memory.current; v1: memory.limit_in_bytes - memory.usage_in_bytes; the usage less
// its inactive page cache, which the kernel reclaims first) when lower.
// Ranks of one job on one host each check their own plan against the same figure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fc::runtime {

struct AvailableMemory {
  uint64_t bytes = 0;
  std::string source;  // "MemAvailable" or the cgroup file that set the limit
};

// nullopt where neither figure can be read (not Linux, /proc not mounted).
std::optional<AvailableMemory> available_memory();

// Throws fc::Error "<what> needs X GiB (...) but Y GiB are available (source)" when arena_bytes
// (still to be allocated) exceeds the available memory; resident_bytes (weights, optimizer state,
// already allocated) are named beside it.
void check_fits_in_memory(uint64_t arena_bytes, uint64_t resident_bytes, const std::string& what);

}  // namespace fc::runtime
