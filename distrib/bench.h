// Allreduce micro-benchmark: the median time of one allreduce of a given size, and its bus
// bandwidth as nccl-tests defines it (2 (p-1)/p * bytes / seconds: the bytes each rank's link must
// carry in a bandwidth-optimal allreduce), in 10^9 bits per second (cost_model.h: units), printed as
// one JSON line.
#pragma once

#include <cstddef>
#include <string>

#include "distrib/allreduce.h"
#include "distrib/communicator.h"

namespace fc::distrib {

struct AllreduceBenchResult {
  AllreduceAlgorithm algorithm = AllreduceAlgorithm::Mpi;
  int ranks = 0;
  size_t bytes = 0;
  double seconds = 0;     // median over iterations of the slowest rank's time per allreduce
  double busbw_gbps = 0;  // 10^9 bits per second; 0 for one rank
  double predicted_seconds = -1;  // the cost model's time for an interconnect the caller names; < 0: none
};

// Collective. `bytes` is rounded down to whole floats; iters >= 1 timed runs after two warm-up runs
// (which also allocate the shared-memory window). Every rank returns the same result.
AllreduceBenchResult run_allreduce_bench(const Communicator& comm, AllreduceAlgorithm algorithm, size_t bytes,
                                         int iters, AllreduceOptions options = {});

// {"algorithm": "ring", "ranks": 2, "bytes": 4194304, "seconds": 0.00123, "busbw_gbps": 3.41}, with
// "predicted_seconds": x before the brace when there is a prediction.
std::string to_json_line(const AllreduceBenchResult& result);

}  // namespace fc::distrib
