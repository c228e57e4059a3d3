// In-place sum allreduce of a float buffer across the ranks of a Communicator.
//
// Algorithms (all on non-blocking MPI point-to-point except Mpi and SharedMemory):
//   Tree             binomial reduction tree to rank 0, then broadcast down the same tree (FireCaffe)
//   Ring             reduce-scatter + all-gather around a ring (bandwidth-optimal)
//   HalvingDoubling  Rabenseifner: recursive-halving reduce-scatter + recursive-doubling all-gather,
//                    non-powers of two folded onto the largest power of two first
//   ParameterServer  rank 0 receives every worker's buffer, sums, sends the sum back (the baseline)
//   Mpi              MPI_Allreduce as the library implements it
//   SharedMemory     ranks of one host reduce through an MPI shared-memory window; host leaders
//                    run an inter-host algorithm (options.inter_host) on the window itself
//
// Every algorithm is correct for any rank count and any element count, and is deterministic: for
// a given algorithm, rank count (and, for SharedMemory, host layout) the summation order is fixed,
// so the same inputs give bitwise the same sums on every run, and every rank ends with bitwise the
// same buffer (each element's sum is computed by one rank and copied to the others).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "distrib/communicator.h"

namespace fc::distrib {

enum class AllreduceAlgorithm { Tree, Ring, HalvingDoubling, ParameterServer, Mpi, SharedMemory };

// "tree", "ring", "halving_doubling", "ps", "mpi", "shm"; from_string throws fc::Error listing them.
std::string_view to_string(AllreduceAlgorithm algorithm);
AllreduceAlgorithm allreduce_algorithm_from_string(std::string_view name);
const std::vector<AllreduceAlgorithm>& all_allreduce_algorithms();

struct AllreduceOptions {
  // SharedMemory only: the algorithm host leaders run among themselves (any but SharedMemory).
  AllreduceAlgorithm inter_host = AllreduceAlgorithm::Ring;
  // 0 = hosts as MPI_COMM_TYPE_SHARED finds them. N > 0 treats each N consecutive ranks as one
  // host, so that one machine can exercise the hierarchical shared-memory path and the send
  // window below (tests).
  int ranks_per_host = 0;
  // Messages are cut into pieces of this many floats so that summing a received piece overlaps
  // the transfer of the next one.
  size_t piece_floats = size_t{1} << 16;
  // Pieces sent to a rank on another host that may be in flight at once (0: all of a message).
  // Over TCP, a whole half of the buffer queued at once to the peer that is sending its half back
  // made halving-doubling 39-41% slower than its model at 8 emulated hosts on 100 Mb/s; two pieces
  // in flight: within 5% (bench/EMULATION.md). Within a host (shared memory) the limit halved ring
  // and halving-doubling at 16-64 MiB, so it does not apply there.
  size_t remote_send_window = 2;
  // SharedMemory only: the buffer is processed in chunks of this many floats, pipelined, so that
  // a chunk is still in cache when the other ranks read it.
  size_t shm_chunk_floats = size_t{1} << 18;
};

class SharedMemoryAllreduce;

// One algorithm bound to one communicator, with its scratch memory (and, for SharedMemory, its
// shared window and sub-communicators) kept between calls. Construction and run() are collective:
// every rank of the communicator calls them in the same order with the same count.
// `comm` must outlive the Allreducer. One Allreducer runs at a time per communicator (they share
// message tags); the runtime's single communication thread satisfies both.
class Allreducer {
 public:
  Allreducer(const Communicator& comm, AllreduceAlgorithm algorithm, AllreduceOptions options = {});
  ~Allreducer();
  Allreducer(const Allreducer&) = delete;
  Allreducer& operator=(const Allreducer&) = delete;

  // data[0..count) <- sum over ranks of data[0..count), in place.
  void run(float* data, size_t count);

  // Memory that run() reduces without any copy, `floats` floats per rank (collective; replaces
  // the previous arena). SharedMemory: this rank's part of a shared window; a buffer at the same
  // offset of every rank's part is summed where it lies (see allreduce_shm.h). The other
  // algorithms reduce any buffer in place and have no arena: null.
  float* arena(size_t floats);

  AllreduceAlgorithm algorithm() const { return algorithm_; }

 private:
  const Communicator& comm_;
  AllreduceAlgorithm algorithm_;
  AllreduceOptions options_;
  std::vector<float> scratch_;
  std::vector<char> remote_;  // per rank: on another host (the send window applies)
  std::unique_ptr<SharedMemoryAllreduce> shm_;
};

// One-off convenience: builds an Allreducer for this call (for SharedMemory that means a window
// allocation per call; keep an Allreducer where it repeats).
void allreduce(const Communicator& comm, AllreduceAlgorithm algorithm, float* data, size_t count);

}  // namespace fc::distrib
