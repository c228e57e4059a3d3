// Static memory plan of one training (or inference) step: every intermediate tensor gets an offset
// in one arena, so that tensors whose lifetimes do not overlap share memory, and a step allocates
// nothing. A pure function of plain data (sizes and lifetimes in node positions); the executor
// feeds it the sizes it saw in a step, `fcc inspect` the sizes at a batch.
//
// Algorithm: greedy by size (as TFLite's and TVM's static planners): tensors in decreasing size
// (ties: earlier first), each at the lowest aligned offset where it overlaps in memory no tensor
// already placed that is alive at the same time. Two lifetimes [first, last] overlap when they
// share a node position: a tensor produced by node i and last read by node j is alive at positions
// i..j inclusive, so a node's outputs never share memory with its own inputs.
#pragma once

#include <cstddef>
#include <vector>

namespace fc::runtime {

struct BufferLifetime {
  size_t bytes = 0;
  int first = 0;  // position of the node that writes it
  int last = 0;   // position of the last node that reads it (>= first)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // per buffer, in the order given
  size_t arena_bytes = 0;       // the arena the offsets fit in
  size_t peak_live_bytes = 0;   // the largest sum of sizes alive at one position: a lower bound
};

// Offsets are multiples of `alignment` (a power of two).
MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, size_t alignment = 64);

}  // namespace fc::runtime
