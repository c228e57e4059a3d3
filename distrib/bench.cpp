// Allreduce micro-benchmark (see bench.h).
#include "distrib/bench.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "support/error.h"

namespace fc::distrib {

AllreduceBenchResult run_allreduce_bench(const Communicator& comm, AllreduceAlgorithm algorithm, size_t bytes,
                                         int iters, AllreduceOptions options) {
  FC_CHECK(iters >= 1, "allreduce bench needs --iters >= 1, got ", iters);
  const size_t count = bytes / sizeof(float);
  // Zeros stay zeros however many times they are summed: no overflow to inf, no denormals, so
  // every iteration does the same work.
  std::vector<float> own;
  Allreducer allreducer(comm, algorithm, options);
  // The buffer lives where training keeps gradient buckets: in the algorithm's arena when it has
  // one (shm: the shared window), else in private memory.
  float* buffer = allreducer.arena(count);
  if (!buffer) {
    own.assign(count, 0.0f);
    buffer = own.data();
  }
  std::fill(buffer, buffer + count, 0.0f);
  for (int warmup = 0; warmup < 2; ++warmup) allreducer.run(buffer, count);
  std::vector<double> times;
  times.reserve(static_cast<size_t>(iters));
  for (int i = 0; i < iters; ++i) {
    comm.barrier();  // start together, so that one rank's lateness is not charged to the others
    const double start = Communicator::wtime();
    allreducer.run(buffer, count);
    times.push_back(comm.max(Communicator::wtime() - start));
  }
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  AllreduceBenchResult result;
  result.algorithm = algorithm;
  result.ranks = comm.size();
  result.bytes = count * sizeof(float);
  result.seconds = n % 2 == 1 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  const double p = comm.size();
  if (comm.size() > 1 && result.seconds > 0)
    result.busbw_gbps = 2.0 * (p - 1) / p * 8.0 * static_cast<double>(result.bytes) / result.seconds / 1e9;
  return result;
}

std::string to_json_line(const AllreduceBenchResult& result) {
  char line[256];
  std::snprintf(
      line, sizeof line, R"({"algorithm": "%s", "ranks": %d, "bytes": %zu, "seconds": %.9g, "busbw_gbps": %.6g)",
      std::string(to_string(result.algorithm)).c_str(), result.ranks, result.bytes, result.seconds, result.busbw_gbps);
  std::string json = line;
  if (result.predicted_seconds >= 0) {
    std::snprintf(line, sizeof line, R"(, "predicted_seconds": %.9g)", result.predicted_seconds);
    json += line;
  }
  return json + "}";
}

}  // namespace fc::distrib
