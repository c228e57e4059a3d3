// Recursive halving-doubling allreduce (Rabenseifner): a reduce-scatter by recursive halving
// followed by an all-gather by recursive doubling, over the largest power of two p' <= p.
//
// Non-powers of two are folded first (as MPICH does): of the first 2 (p - p') ranks, each even rank
// hands its whole buffer to the odd rank above it, which adds it and takes part for both; at the end
// the odd rank hands the result back. The p' active ranks renumber 0..p'-1. In halving step d
// (d = p'/2, p'/4, ..., 1) a rank exchanges half of its current window of segments with the rank d
// away, keeping (and adding into) the half on its side of bit d; it ends owning the sum of segment
// `newrank`. The doubling steps replay the exchanges with finished data, doubling the window.
// Time ~ 2 log2(p') alpha + 2 (p'-1)/p' n beta (+ 2 (alpha + n beta) for the fold).
// Every pairing and order is fixed by p, so results are deterministic, and each segment's final sum
// is computed by one rank and copied to the rest.
#include "distrib/allreduce_detail.h"

namespace fc::distrib::detail {

void allreduce_halving_doubling(const Communicator& comm, float* data, size_t count, StepBuffers buffers) {
  const int p = comm.size(), r = comm.rank();
  int pow2 = 1;
  while (pow2 * 2 <= p) pow2 *= 2;
  const int folded = p - pow2;  // ranks 0..2*folded-1 pair up; the even one of each pair sits out

  int newrank = -1;
  if (r < 2 * folded) {
    if (r % 2 == 0) {
      exchange(comm, kTagHalvingDoubling, data, count, r + 1, nullptr, 0, MPI_PROC_NULL, false, buffers);
    } else {
      exchange(comm, kTagHalvingDoubling, nullptr, 0, MPI_PROC_NULL, data, count, r - 1, true, buffers);
      newrank = r / 2;
    }
  } else {
    newrank = r - folded;
  }

  if (newrank >= 0) {
    const auto real_rank = [&](int n) { return n < folded ? 2 * n + 1 : n + folded; };
    // Elements of the segments [first, last) of the p'-way partition.
    const auto segments = [&](int first, int last) {
      const Range a = partition(count, pow2, first), b = partition(count, pow2, last - 1);
      return Range{a.offset, b.offset + b.count - a.offset};
    };
    int lo = 0, hi = pow2;
    for (int d = pow2 / 2; d >= 1; d /= 2) {
      const int mid = lo + (hi - lo) / 2;
      const bool upper = (newrank & d) != 0;
      const Range keep = upper ? segments(mid, hi) : segments(lo, mid);
      const Range give = upper ? segments(lo, mid) : segments(mid, hi);
      const int partner = real_rank(newrank ^ d);
      exchange(comm, kTagHalvingDoubling, data + give.offset, give.count, partner, data + keep.offset, keep.count,
               partner, true, buffers);
      if (upper)
        lo = mid;
      else
        hi = mid;
    }
    for (int d = 1; d < pow2; d *= 2) {
      // This rank's finished window is the aligned block of d segments holding `newrank`.
      const int mine = newrank & ~(d - 1), theirs = mine ^ d;
      const Range give = segments(mine, mine + d), take = segments(theirs, theirs + d);
      const int partner = real_rank(newrank ^ d);
      exchange(comm, kTagHalvingDoubling, data + give.offset, give.count, partner, data + take.offset, take.count,
               partner, false, buffers);
    }
  }

  if (r < 2 * folded) {
    if (r % 2 == 1)
      exchange(comm, kTagHalvingDoubling, data, count, r - 1, nullptr, 0, MPI_PROC_NULL, false, buffers);
    else
      exchange(comm, kTagHalvingDoubling, nullptr, 0, MPI_PROC_NULL, data, count, r + 1, false, buffers);
  }
}

}  // namespace fc::distrib::detail
