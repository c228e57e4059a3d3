// Checkpoints: every training-state tensor (weights, optimizer state, BatchNorm running statistics)
// by name, plus the step counter and the seed that fixes data order and dropout. Data order and the
// dropout RNG are pure functions of (seed, step), so (state, step, seed) resumes a run exactly.
//
// File format (little-endian): "FCCKPT01", u64 header length, a JSON header
//   {"step": S, "seed": X, "plan_hash": "...", "tensors": [{"name", "dtype", "dims", "offset", "bytes"}, ...]}
// then the raw tensor data. Writes are atomic: temporary file, fsync, rename, fsync of the folder.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ir/tensor.h"

namespace fc::runtime {

struct Checkpoint {
  int64_t step = 0;
  uint64_t seed = 0;
  std::string plan_hash;
  std::map<std::string, ir::Tensor> tensors;
};

void save_checkpoint_atomic(const std::string& path, const Checkpoint& ckpt);
Checkpoint load_checkpoint(const std::string& path);  // throws fc::Error naming the file

// "<dir>/step-<8 digits>.fcckpt"; the newest is the one with the highest step.
std::string checkpoint_path(const std::string& dir, int64_t step);
std::optional<std::string> newest_checkpoint(const std::string& dir);
// Deletes all but the `keep` newest checkpoints in dir.
void prune_checkpoints(const std::string& dir, int keep);

}  // namespace fc::runtime
