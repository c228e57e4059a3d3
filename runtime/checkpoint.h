// Checkpoints: every training-state tensor (weights, optimizer state, BatchNorm running statistics)
// by name, plus the step counter and the seed that fixes data order and dropout. Data order and the
// dropout RNG are pure functions of (seed, step), so (state, step, seed) resumes a run exactly.
//
// File format (little-endian):
//   "FCCKPT02" | u64 header length | u32 CRC-32 of the header | header (JSON) | tensor data
//   header: {"step": S, "seed": X, "plan_hash": "...", "data_bytes": D,
//            "tensors": [{"name", "dtype", "dims", "offset", "bytes", "crc32"}, ...]}
// A checkpoint cannot lie: the header and every tensor carry a CRC-32 (zlib's), the data's length is
// in the header (a truncated file is found before anything is read), and the plan hash says which
// training step the state belongs to. Writes are atomic (ir/atomic_file.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/tensor.h"

namespace fc::runtime {

struct Checkpoint {
  int64_t step = 0;
  uint64_t seed = 0;
  std::string plan_hash;
  std::map<std::string, ir::Tensor> tensors;
};

void save_checkpoint_atomic(const std::string& path, const Checkpoint& ckpt);
// Reads and verifies every checksum; throws fc::Error "<path>: <what is wrong>" on any damage.
Checkpoint load_checkpoint(const std::string& path);

// "<dir>/step-<8 digits>.fcckpt"; the newest is the one with the highest step.
std::string checkpoint_path(const std::string& dir, int64_t step);

// What --resume continues from: the newest checkpoint in dir that verifies. Each newer one that does
// not is in `damaged` ("<file>: <what is wrong>"). No checkpoint in dir: no `checkpoint` and nothing
// damaged; checkpoints but none intact: no `checkpoint`, every one in `damaged`.
struct ResumePoint {
  std::optional<Checkpoint> checkpoint;
  std::string path;
  std::vector<std::string> damaged;
};
ResumePoint newest_intact_checkpoint(const std::string& dir);

// Deletes all but the `keep` newest checkpoints in dir, and temporary files a killed writer left.
void prune_checkpoints(const std::string& dir, int keep);

}  // namespace fc::runtime
