// Binomial-tree allreduce (FireCaffe's reduction tree): reduce to rank 0 up a binomial tree, then
// broadcast the sum down the same tree.
//
// In round k (mask = 2^k) a rank whose lowest set bit is mask sends its partial sum to rank - mask
// and leaves the reduce; a rank with bit k clear receives from rank + mask (if it exists) and adds.
// After ceil(log2 p) rounds rank 0 holds the sum; the broadcast replays the rounds in reverse.
// Time ~ 2 ceil(log2 p) (alpha + n beta). Each element's sum order is fixed by p: rank r adds its
// children in increasing mask order, so results are deterministic and rank 0's sum is what all get.
#include "distrib/allreduce_detail.h"

namespace fc::distrib::detail {

void allreduce_tree(const Communicator& comm, float* data, size_t count, StepBuffers buffers) {
  const int p = comm.size(), r = comm.rank();
  // Reduce. On exit, mask is the round in which this rank sent to its parent (or >= p for rank 0).
  int mask = 1;
  for (; mask < p; mask <<= 1) {
    if (r & mask) {
      exchange(comm, kTagTree, data, count, r - mask, nullptr, 0, MPI_PROC_NULL, false, buffers);
      break;
    }
    if (r + mask < p) exchange(comm, kTagTree, nullptr, 0, MPI_PROC_NULL, data, count, r + mask, true, buffers);
  }
  // Broadcast: receive the sum from the parent, then pass it to the children, largest subtree first.
  // Each child gets the whole sum before the next one starts (delivered, not just buffered, sends):
  // the largest subtree can then forward it a round earlier. With buffered sends all children's
  // copies shared this rank's link, and a 4-rank tree took 5 rounds instead of 4 (issue 6).
  if (r != 0) exchange(comm, kTagTree, nullptr, 0, MPI_PROC_NULL, data, count, r - mask, false, buffers);
  for (mask >>= 1; mask > 0; mask >>= 1)
    if (r + mask < p)
      exchange(comm, kTagTree, data, count, r + mask, nullptr, 0, MPI_PROC_NULL, false, buffers,
               SendCompletion::Delivered);
}

}  // namespace fc::distrib::detail
