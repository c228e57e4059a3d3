// Shared-memory allreduce, hierarchical over hosts (used by Allreducer for "shm").
//
// The ranks of one host (MPI_COMM_TYPE_SHARED, optionally cut into groups of
// AllreduceOptions::ranks_per_host) share one MPI window (MPI_Win_allocate_shared) holding, per
// local rank, a slot of two chunks, plus a result area. The buffer is processed chunk by chunk:
//   1. each local rank copies its chunk into its slot (all but its own 1/L slice of the chunk,
//      which only it reads, straight from its private buffer);
//   2. barrier; each local rank sums its own slice across all L slots, in local-rank order, into
//      the result area and into its own buffer;
//   3. barrier; each rank copies the result area (but its own slice) into its buffer.
// The stages are software-pipelined (one barrier per chunk, see run()), and slots and result area
// are rings of two chunks, so the window stays in cache: apart from barriers, the cost is reading
// and writing each rank's buffer once and the sums. No message copies within a host.
//
// With several hosts the result area holds the whole buffer: after the local sums the host leaders
// (local rank 0) run the inter-host algorithm among themselves on the result area itself, then a
// barrier, then every rank copies the whole result out.
//
// Buffers that already live in the shared memory need none of those copies: arena() allocates a
// second window in which each local rank owns an equal part, and a buffer at the same offset of
// every rank's part (the runtime computes each gradient bucket straight into it) is reduced in
// place by run_in_arena():
//   1. barrier (every rank's buffer is complete);
//   2. each local rank sums its own 1/L slice across the L parts, in local-rank order, into local
//      rank 0's part, and copies the sum into every other part;
//   3. barrier.
// That reads and writes each element once per rank and is bitwise the same sum as run().
// With several hosts, step 2 leaves the sum in local rank 0's part only, the leaders run the
// inter-host algorithm on it, and after a barrier the other ranks copy it into their parts.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "distrib/allreduce.h"
#include "distrib/communicator.h"

namespace fc::distrib {

class SharedMemoryAllreduce {
 public:
  SharedMemoryAllreduce(const Communicator& comm, const AllreduceOptions& options);
  ~SharedMemoryAllreduce();
  SharedMemoryAllreduce(const SharedMemoryAllreduce&) = delete;
  SharedMemoryAllreduce& operator=(const SharedMemoryAllreduce&) = delete;

  void run(float* data, size_t count);

  // (Re)allocates the arena: `floats` floats owned by each local rank, returned as this rank's
  // part (valid until the next arena() call or destruction). Collective over the local ranks, with
  // equal `floats`.
  float* arena(size_t floats);
  // Whether data[0..count) lies inside this rank's part of the arena.
  bool in_arena(const float* data, size_t count) const;
  // run() for a buffer inside the arena at the same offset on every local rank: no copies.
  void run_in_arena(float* data, size_t count);

 private:
  // (Re)allocates the window so that slots hold slot_floats and the result area result_floats
  // floats. Collective over the local ranks (they all pass the same sizes).
  void reserve(size_t slot_floats, size_t result_floats);
  void free_window();
  // Memory barrier + barrier over the local ranks + memory barrier, for `window`.
  void sync(MPI_Win window) const;
  void sync() const { sync(window_); }

  Communicator local_;                      // ranks sharing the window
  Communicator leaders_;                    // local rank 0 of every host (invalid on the other ranks)
  std::unique_ptr<Allreducer> inter_host_;  // on leaders, when there are several hosts
  bool multi_host_ = false;
  size_t chunk_floats_;
  MPI_Win window_ = MPI_WIN_NULL;
  size_t slot_capacity_ = 0;    // floats per slot
  size_t result_capacity_ = 0;  // floats in the result area
  std::vector<float*> slots_;   // slots_[k]: local rank k's slot
  float* result_ = nullptr;     // in local rank 0's part of the window, after its slot
  MPI_Win arena_window_ = MPI_WIN_NULL;
  size_t arena_floats_ = 0;        // per local rank
  std::vector<float*> arena_parts_;  // arena_parts_[k]: local rank k's part
};

}  // namespace fc::distrib
