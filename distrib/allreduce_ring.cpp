// Ring allreduce: reduce-scatter then all-gather around the ring r -> r+1 (bandwidth-optimal).
//
// The buffer is cut into p nearly equal segments. In reduce-scatter step s (s = 0..p-2) rank r
// sends segment (r - s) mod p to its right neighbour and adds segment (r - s - 1) mod p received
// from its left; after p-1 steps rank r holds the full sum of segment (r + 1) mod p. The all-gather
// circulates the finished segments for p-1 more steps. Time ~ 2 (p-1) (alpha + n beta / p).
// Segment k is summed along the fixed chain k, k+1, ..., k-1, so results are deterministic and
// every rank receives the one finished copy of each segment.
#include "distrib/allreduce_detail.h"

namespace fc::distrib::detail {

void allreduce_ring(const Communicator& comm, float* data, size_t count, StepBuffers buffers) {
  const int p = comm.size(), r = comm.rank();
  const int right = (r + 1) % p, left = (r + p - 1) % p;
  const auto segment = [&](int index) { return partition(count, p, ((index % p) + p) % p); };
  for (int s = 0; s < p - 1; ++s) {
    const Range send = segment(r - s), recv = segment(r - s - 1);
    exchange(comm, kTagRing, data + send.offset, send.count, right, data + recv.offset, recv.count, left, true,
             buffers);
  }
  for (int s = 0; s < p - 1; ++s) {
    const Range send = segment(r + 1 - s), recv = segment(r - s);
    exchange(comm, kTagRing, data + send.offset, send.count, right, data + recv.offset, recv.count, left, false,
             buffers);
  }
}

}  // namespace fc::distrib::detail
