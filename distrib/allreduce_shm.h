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

 private:
  // (Re)allocates the window so that slots hold slot_floats and the result area result_floats
  // floats. Collective over the local ranks (they all pass the same sizes).
  void reserve(size_t slot_floats, size_t result_floats);
  void free_window();
  void sync() const;  // memory barrier + barrier over the local ranks + memory barrier

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
};

}  // namespace fc::distrib
