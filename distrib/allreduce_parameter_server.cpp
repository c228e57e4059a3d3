// Parameter-server allreduce, the baseline FireCaffe beats: rank 0 (the server) receives every
// worker's whole buffer in rank order, sums, and sends the sum back to each worker.
// Time at the server ~ 2 (p-1) (alpha + n beta): its one link carries every message.
// The server adds workers in rank order 1, 2, ..., p-1, so results are deterministic.
#include "distrib/allreduce_detail.h"

namespace fc::distrib::detail {

void allreduce_parameter_server(const Communicator& comm, float* data, size_t count, StepBuffers buffers) {
  const int p = comm.size(), r = comm.rank();
  if (r == 0) {
    for (int worker = 1; worker < p; ++worker)
      exchange(comm, kTagParameterServer, nullptr, 0, MPI_PROC_NULL, data, count, worker, true, buffers);
    for (int worker = 1; worker < p; ++worker)
      exchange(comm, kTagParameterServer, data, count, worker, nullptr, 0, MPI_PROC_NULL, false, buffers);
  } else {
    // Two steps: the send must complete before the sum may land in the same buffer.
    exchange(comm, kTagParameterServer, data, count, 0, nullptr, 0, MPI_PROC_NULL, false, buffers);
    exchange(comm, kTagParameterServer, nullptr, 0, MPI_PROC_NULL, data, count, 0, false, buffers);
  }
}

}  // namespace fc::distrib::detail
