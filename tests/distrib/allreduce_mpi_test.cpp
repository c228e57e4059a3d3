// MPI test of the allreduce algorithms and the Communicator, run by ctest under mpirun with 1..8
// ranks (and once without mpirun: MPI singleton init).
//
// Every rank fills its buffer from a seeded function of (rank, index); each algorithm's result is
// compared on every rank with the exact sum computed in double, within float rounding, and all
// ranks must end with bitwise identical buffers; repeating a call must reproduce it bitwise.
// Plain main(): prints each failure with its rank, algorithm and count and exits non-zero.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "distrib/allreduce.h"
#include "distrib/allreduce_detail.h"
#include "distrib/communicator.h"
#include "support/error.h"

namespace {

using fc::distrib::AllreduceAlgorithm;
using fc::distrib::AllreduceOptions;
using fc::distrib::Allreducer;
using fc::distrib::Communicator;

constexpr uint32_t kSeed = 20160601u;  // printed on failure so a run can be reproduced

int g_failures = 0;

#define EXPECT(cond, ...)                                                                                         \
  do {                                                                                                            \
    if (!(cond)) {                                                                                                \
      ++g_failures;                                                                                               \
      std::fprintf(stderr, "FAIL rank %d (%s:%d) %s: ", Communicator::world().rank(), __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                                          \
      std::fprintf(stderr, "\n");                                                                                 \
    }                                                                                                             \
  } while (0)

// A value in +-[0.5, 1): never zero, so a missing or doubled contribution is far outside rounding.
float input_value(int rank, size_t index, uint32_t trial) {
  uint64_t h = (static_cast<uint64_t>(rank) + 1) * 0x9E3779B97F4A7C15ull ^ (index + 1) * 0xC2B2AE3D27D4EB4Full ^
               (static_cast<uint64_t>(kSeed) << 32 | trial);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  const float magnitude = 0.5f + static_cast<float>((h >> 40) & 0xFFFFFF) * 0x1p-25f;
  return (h & 1) ? -magnitude : magnitude;
}

uint64_t fnv1a(const float* data, size_t count) {
  uint64_t h = 1469598103934665603ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  for (size_t i = 0; i < count * sizeof(float); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
  return h;
}

struct Config {
  std::string name;
  AllreduceAlgorithm algorithm;
  AllreduceOptions options;
  size_t max_count = SIZE_MAX;  // configurations that cost a barrier per few elements skip big counts
  bool in_arena = false;        // the buffer lives in the allreducer's arena (shm: no copies)
};

std::vector<Config> configs() {
  std::vector<Config> list;
  for (AllreduceAlgorithm a : fc::distrib::all_allreduce_algorithms())
    list.push_back({std::string(fc::distrib::to_string(a)), a, {}});
  // Tiny pieces: a message cut into many pieces, the last one short.
  AllreduceOptions pieces;
  pieces.piece_floats = 3;
  list.push_back({"ring/piece3", AllreduceAlgorithm::Ring, pieces});
  list.push_back({"halving_doubling/piece3", AllreduceAlgorithm::HalvingDoubling, pieces});
  // Every rank its own host: sends keep 1 or 2 pieces in flight (the inter-host send window).
  for (size_t window : {1, 2})
    for (AllreduceAlgorithm a : {AllreduceAlgorithm::Tree, AllreduceAlgorithm::Ring, AllreduceAlgorithm::HalvingDoubling,
                                 AllreduceAlgorithm::ParameterServer}) {
      AllreduceOptions o = pieces;
      o.ranks_per_host = 1;
      o.remote_send_window = window;
      list.push_back({std::string(fc::distrib::to_string(a)) + "/piece3/window" + std::to_string(window), a, o});
    }
  // Shared memory with many chunks through the two-chunk rings (the last chunk short).
  AllreduceOptions chunks;
  chunks.shm_chunk_floats = 3;
  list.push_back({"shm/chunk3", AllreduceAlgorithm::SharedMemory, chunks, 1000});
  chunks.shm_chunk_floats = 100000;
  list.push_back({"shm/chunk100000", AllreduceAlgorithm::SharedMemory, chunks});
  // The hierarchical shared-memory path, with one host emulated as several.
  for (auto [per_host, inter] :
       {std::pair{2, AllreduceAlgorithm::Ring}, std::pair{3, AllreduceAlgorithm::HalvingDoubling},
        std::pair{1, AllreduceAlgorithm::Tree}}) {
    AllreduceOptions o;
    o.ranks_per_host = per_host;
    o.inter_host = inter;
    list.push_back({"shm/hosts_of_" + std::to_string(per_host) + "+" + std::string(fc::distrib::to_string(inter)),
                    AllreduceAlgorithm::SharedMemory, o});
    list.push_back({"shm/arena/hosts_of_" + std::to_string(per_host) + "+" + std::string(fc::distrib::to_string(inter)),
                    AllreduceAlgorithm::SharedMemory, o, SIZE_MAX, true});
  }
  // Gradient buckets computed straight into the shared window, reduced where they lie.
  list.push_back({"shm/arena", AllreduceAlgorithm::SharedMemory, {}, SIZE_MAX, true});
  return list;
}

// The exact sum of every element and the float rounding allowed for it, computed in double.
struct Expected {
  std::vector<double> exact, tolerance;
};

Expected expected_sums(int p, size_t count, uint32_t trial) {
  Expected e{std::vector<double>(count), std::vector<double>(count)};
  for (size_t i = 0; i < count; ++i) {
    double exact = 0, magnitude = 0;
    for (int k = 0; k < p; ++k) {
      exact += input_value(k, i, trial);
      magnitude += std::fabs(input_value(k, i, trial));
    }
    e.exact[i] = exact;
    // p-1 float additions, each off by at most half an ulp of a partial sum <= magnitude.
    e.tolerance[i] = p * 0x1p-24 * magnitude;
  }
  return e;
}

// One allreduce of `count` elements with inputs from `trial`; checks it and returns the result.
std::vector<float> check_once(const Communicator& comm, Allreducer& allreducer, const Config& config,
                              const Expected& expected, uint32_t trial) {
  const int p = comm.size(), r = comm.rank();
  const size_t count = expected.exact.size();
  std::vector<float> data(count);
  for (size_t i = 0; i < count; ++i) data[i] = input_value(r, i, trial);
  if (config.in_arena) {
    // At an offset inside the arena, as a bucket after others; the copying path on the same
    // inputs must give bitwise the same sums.
    constexpr size_t kOffset = 5;
    float* arena = allreducer.arena(kOffset + count + 3);
    EXPECT(arena != nullptr, "%s: no arena", config.name.c_str());
    std::copy(data.begin(), data.end(), arena + kOffset);
    allreducer.run(arena + kOffset, count);
    allreducer.run(data.data(), count);
    EXPECT(count == 0 || std::memcmp(data.data(), arena + kOffset, count * sizeof(float)) == 0,
           "%s ranks=%d count=%zu: the in-arena sum differs bitwise from the copying path", config.name.c_str(), p,
           count);
  } else {
    allreducer.run(data.data(), count);
  }
  int reported = 0;
  for (size_t i = 0; i < count; ++i)
    if (!(std::fabs(data[i] - expected.exact[i]) <= expected.tolerance[i]) && reported++ < 5)
      EXPECT(false, "%s ranks=%d count=%zu seed=%u: element %zu = %.9g, exact sum %.9g", config.name.c_str(), p, count,
             kSeed, i, static_cast<double>(data[i]), expected.exact[i]);
  // Bitwise identical on every rank.
  const uint64_t mine = fnv1a(data.data(), count);
  std::vector<uint64_t> all(static_cast<size_t>(p));
  FC_MPI(MPI_Allgather, &mine, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, comm.comm());
  for (int k = 0; k < p; ++k)
    EXPECT(all[static_cast<size_t>(k)] == mine,
           "%s ranks=%d count=%zu: rank %d's result differs bitwise from rank %d's", config.name.c_str(), p, count, k,
           r);
  return data;
}

void test_allreduce(const Communicator& comm) {
  const size_t p = static_cast<size_t>(comm.size());
  const std::vector<size_t> counts = {0, 1, 7, 1000003, 7, p - 1, 2 * p + 1};
  std::map<size_t, Expected> expected;
  for (size_t count : counts)
    if (!expected.count(count)) expected.emplace(count, expected_sums(comm.size(), count, 1));
  for (const Config& config : configs()) {
    // One Allreducer through all counts: scratch and the shared window are reused and regrown.
    Allreducer allreducer(comm, config.algorithm, config.options);
    for (size_t count : counts) {
      if (count > config.max_count) continue;
      const std::vector<float> first = check_once(comm, allreducer, config, expected.at(count), 1);
      const std::vector<float> again = check_once(comm, allreducer, config, expected.at(count), 1);
      EXPECT(first.size() == again.size() && (count == 0 || std::memcmp(first.data(), again.data(), count * 4) == 0),
             "%s ranks=%d count=%zu: a repeated call gave a different result", config.name.c_str(), comm.size(), count);
    }
  }
  // The one-off helper.
  std::vector<float> ones(5, 1.0f);
  fc::distrib::allreduce(comm, AllreduceAlgorithm::Tree, ones.data(), ones.size());
  for (float v : ones)
    EXPECT(v == static_cast<float>(comm.size()), "allreduce() of ones gave %g", static_cast<double>(v));
}

void test_communicator(const Communicator& comm) {
  int world_rank = -1, world_size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  EXPECT(comm.rank() == world_rank && comm.size() == world_size, "world() is rank %d of %d, MPI says %d of %d",
         comm.rank(), comm.size(), world_rank, world_size);
  EXPECT(&Communicator::world() == &comm, "world() is not one object");
  // Every test rank runs on this one host.
  const Communicator shared = comm.split_shared();
  EXPECT(shared.size() == comm.size(), "split_shared has %d of %d ranks", shared.size(), comm.size());
  const Communicator odd = comm.split(comm.rank() % 2 == 1 ? 0 : -1, comm.rank());
  EXPECT(odd.valid() == (comm.rank() % 2 == 1), "split: rank %d valid=%d", comm.rank(), odd.valid());
  if (odd.valid()) EXPECT(odd.size() == comm.size() / 2, "split: %d odd ranks of %d", odd.size(), comm.size());
  // Ring of blocking point-to-point messages.
  const int next = (comm.rank() + 1) % comm.size(), prev = (comm.rank() + comm.size() - 1) % comm.size();
  float out = static_cast<float>(comm.rank()), in = -1;
  MPI_Request requests[2] = {comm.irecv(&in, 1, prev, 5), comm.isend(&out, 1, next, 5)};
  Communicator::wait_all(requests);
  EXPECT(in == static_cast<float>(prev), "ring message: got %g from rank %d", static_cast<double>(in), prev);
  EXPECT(comm.max(comm.rank()) == comm.size() - 1, "max of ranks");
  // A failing MPI call throws fc::Error naming the call instead of aborting.
  std::string message;
  try {
    comm.send(&out, 1, comm.size() + 3, 5);
  } catch (const fc::Error& e) {
    message = e.what();
  }
  EXPECT(message.rfind("MPI_Send failed: ", 0) == 0, "send to a missing rank gave \"%s\"", message.c_str());
  // Names round-trip; unknown names list the known ones.
  for (AllreduceAlgorithm a : fc::distrib::all_allreduce_algorithms())
    EXPECT(fc::distrib::allreduce_algorithm_from_string(fc::distrib::to_string(a)) == a, "name round trip");
  message.clear();
  try {
    fc::distrib::allreduce_algorithm_from_string("star");
  } catch (const fc::Error& e) {
    message = e.what();
  }
  EXPECT(message ==
             "unknown allreduce algorithm \"star\" (known: \"tree\", \"ring\", \"halving_doubling\", \"ps\", "
             "\"mpi\", \"shm\")",
         "got \"%s\"", message.c_str());
}

// A delivered send completes only once the receiver has the message: rank 0 sends a small message
// to rank 1, which posts its receive only after a pause; rank 0's exchange must last at least that
// pause. The tree's broadcast relies on it to serve its children one at a time. Over TCP (the
// distrib_allreduce_tcp_np3 run) a buffered send of this size completes at once, so the check has
// teeth there; OpenMPI's shared-memory transport waits for the receiver even for buffered sends.
void test_delivered_sends(const Communicator& comm) {
  if (comm.size() < 2 || comm.rank() > 1) return;
  constexpr double kPauseSeconds = 0.3;
  std::vector<float> message(100, 1.0f), scratch;
  const fc::distrib::detail::StepBuffers buffers{scratch, 256};
  constexpr int kTag = 77;
  if (comm.rank() == 0) {
    const double start = MPI_Wtime();
    fc::distrib::detail::exchange(comm, kTag, message.data(), message.size(), 1, nullptr, 0, MPI_PROC_NULL, false,
                                  buffers, fc::distrib::detail::SendCompletion::Delivered);
    const double elapsed = MPI_Wtime() - start;
    EXPECT(elapsed >= kPauseSeconds * 0.9, "a delivered send completed after %.3f s, before the receive was posted",
           elapsed);
  } else {
    std::this_thread::sleep_for(std::chrono::duration<double>(kPauseSeconds));
    std::vector<float> got(message.size(), 0.0f);
    fc::distrib::detail::exchange(comm, kTag, nullptr, 0, MPI_PROC_NULL, got.data(), got.size(), 0, false, buffers);
    EXPECT(got == message, "the delivered message arrived changed");
  }
}

}  // namespace

int main() {
  try {
    const Communicator& comm = Communicator::world();
    test_communicator(comm);
    test_allreduce(comm);
    test_delivered_sends(comm);
    const double failures = comm.max(g_failures);
    if (comm.is_root())
      std::printf("%s: %d ranks, %s\n", failures == 0 ? "PASS" : "FAIL", comm.size(),
                  failures == 0 ? "all allreduce checks passed" : "see failures above");
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    Communicator::world().abort(2);
  }
}
