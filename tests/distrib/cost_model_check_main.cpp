// The alpha-beta formulas against this machine: every algorithm's measured allreduce time at 2
// ranks, for messages of 1 MiB and more, must lie within 25% of its formula's prediction, with ONE
// alpha and bandwidth fitted to all algorithms and sizes of a memory regime at once
// (distrib/cost_model_fit.h: two parameters cannot absorb a formula of the wrong shape).
//
// Between ranks of one host "the link" is memory, so its bandwidth depends on where the data
// lies: messages whose buffers fit in the last-level cache move ~1.6x faster than those that do
// not. Each regime gets its own fit (a cluster link has one regime), and the regimes are derived
// from this machine's last-level cache as sysfs reports it, because the CPU changes from machine to
// machine (32 MiB of L3 on one, hundreds of MiB on another, where fixed 32-128 MiB "beyond cache"
// messages measured 26-40% off a fit that mixed cached and uncached points):
//   cache   1, 1.5 and 2 MiB, when they are at most 1/16 of the cache: both ranks' buffers, scratch
//           and MPI's copies then fit (at 1/8, 4 MiB of 32 MiB, the tree and the parameter server,
//           which move the whole buffer per hop, measured 28-46% slower than the line through 1-2
//           MiB: already partly out of cache). Below 1 MiB alpha dominates and beta is not checked.
//   memory  2, 3 and 4 times the cache: each rank's buffer alone is twice the cache, the two
//           ranks' buffers four times, so every pass streams from memory. Skipped, with a message,
//           where that would need more than kMemoryRegimeMaxBytes per message (time and memory).
// The shared-memory algorithm has its own link (memory within a host: intra_alpha_s,
// intra_bytes_per_s) and its own fit.
//
// "mpi" is reported, not asserted, beyond the cache: its formula assumes the library picks the
// better of ring and halving-doubling, and OpenMPI 4.1's choice for 2 ranks and tens of MiB is
// measured ~1.8x slower than both (bench/RESULTS.md). That is the library's, not the formula's,
// shape; the bucketing pass never picks "mpi" on its own.
//
// Each point is the best of three medians taken in separate passes; a point more than 25% off is
// measured once more, and a regime with points still off is measured afresh, up to 3 attempts (a
// slow spell of a 2-core virtual machine is not a model error; a wrong formula fails every attempt). Usage: mpirun -n 2 fc_cost_model_check [--iters K]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "distrib/bench.h"
#include "distrib/cost_model_fit.h"
#include "distrib/probe.h"

namespace fc::distrib {
namespace {

constexpr double kTolerance = 0.25;
constexpr double MiB = 1 << 20;
constexpr int kSkipped = 77;  // ctest's SKIP_RETURN_CODE for this test
// The largest "memory" message: 4 x a 64 MiB cache. Time grows with the messages (each point is 3
// passes of 15 allreduces); at larger caches the test would outgrow its time (and the buffers,
// memory), so such a cache is skipped rather than measured.
constexpr double kMemoryRegimeMaxBytes = 256 * MiB;

struct Regime {
  const char* name;
  std::vector<double> bytes;
  bool assert_mpi;
};

double measure(const Communicator& comm, AllreduceAlgorithm a, double bytes, int iters) {
  return run_allreduce_bench(comm, a, static_cast<size_t>(bytes), iters).seconds;
}

// Each point's best of three medians, the three taken in separate passes over all points: this
// machine has slow spells of a fraction of a second (a 1 MiB tree measured at 0.30 and 0.62 ms in
// back-to-back runs), which are its noise, not the formula's shape.
std::vector<AllreduceMeasurement> measure_all(const Communicator& comm, const std::vector<AllreduceAlgorithm>& algorithms,
                                              const std::vector<double>& sizes, int iters) {
  std::vector<AllreduceMeasurement> ms;
  for (AllreduceAlgorithm a : algorithms)
    for (double bytes : sizes) ms.push_back({a, bytes, measure(comm, a, bytes, iters)});
  for (int pass = 1; pass < 3; ++pass)
    for (AllreduceMeasurement& m : ms) m.seconds = std::min(m.seconds, measure(comm, m.algorithm, m.bytes, iters));
  return ms;
}

// Fits `link` to the measurements of `algorithms` over `regime`, prints every point, returns the
// number of points outside the tolerance.
int check(const Communicator& comm, const Regime& regime, const std::vector<AllreduceAlgorithm>& algorithms,
          const Interconnect& topology, FittedLink link, int iters) {
  std::vector<AllreduceMeasurement> ms = measure_all(comm, algorithms, regime.bytes, iters);
  Interconnect fit = fit_interconnect(topology, link, ms);
  int failed = 0;
  for (AllreduceMeasurement& m : ms) {
    double error = relative_error(fit, m);
    const bool asserted = m.algorithm != AllreduceAlgorithm::Mpi || regime.assert_mpi;
    if (asserted && std::fabs(error) > kTolerance) {  // once more before it counts
      m.seconds = std::min(m.seconds, measure(comm, m.algorithm, m.bytes, iters));
      error = relative_error(fit, m);
    }
    const bool bad = asserted && std::fabs(error) > kTolerance;
    failed += bad;
    if (comm.is_root())
      std::printf("%-4s %-6s %-17s %9.0f B  measured %9.1f us  predicted %9.1f us  %+6.1f%%%s\n", bad ? "FAIL" : "ok",
                  regime.name, std::string(to_string(m.algorithm)).c_str(), m.bytes, m.seconds * 1e6,
                  predicted_allreduce_seconds(m.algorithm, fit, m.bytes) * 1e6, error * 100,
                  asserted ? "" : "  (reported only)");
  }
  if (comm.is_root()) {
    const bool inter = link == FittedLink::InterHost;
    std::printf("     %-6s fit: alpha %.2f us, bandwidth %.2f GB/s (%s)\n", regime.name,
                (inter ? fit.alpha_s : fit.intra_alpha_s) * 1e6,
                (inter ? fit.beta_bytes_per_s : fit.intra_bytes_per_s) / 1e9,
                inter ? "link between the ranks" : "memory of one rank, shm");
  }
  return failed;
}

// The size of the largest cache cpu0 sees (the last level), from sysfs; 0 where sysfs does not say.
double last_level_cache_bytes() {
  double largest = 0;
  for (int index = 0;; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    std::ifstream type_file(dir + "type"), size_file(dir + "size");
    if (!type_file || !size_file) break;
    std::string type, size;
    type_file >> type;
    size_file >> size;
    if (type == "Instruction" || size.empty()) continue;
    double bytes = std::atof(size.c_str());
    if (size.back() == 'K') bytes *= 1024;
    if (size.back() == 'M') bytes *= MiB;
    largest = std::max(largest, bytes);
  }
  return largest;
}

// The regimes this machine's cache allows (see the header); each one it does not is named on stdout.
std::vector<Regime> regimes_for_this_cpu(const Communicator& comm) {
  const double llc = last_level_cache_bytes();
  std::vector<Regime> regimes;
  const auto skip = [&](const char* what) {
    if (comm.is_root()) std::printf("skip %s\n", what);
  };
  if (comm.is_root()) std::printf("last-level cache (sysfs, cpu0): %.1f MiB\n", llc / MiB);
  if (llc <= 0) {
    skip("both regimes: sysfs reports no cache size, so which messages fit in it is unknown");
    return regimes;
  }
  if (2 * MiB * 16 <= llc)
    regimes.push_back({"cache", {1 * MiB, 1.5 * MiB, 2 * MiB}, true});
  else
    skip("cache regime: 1-2 MiB messages are more than 1/16 of the last-level cache (need >= 32 MiB)");
  if (4 * llc <= kMemoryRegimeMaxBytes)
    regimes.push_back({"memory", {2 * llc, 3 * llc, 4 * llc}, false});
  else
    skip("memory regime: messages of 2-4x the last-level cache would exceed 256 MiB");
  return regimes;
}

int run(int argc, char** argv) {
  const Communicator& comm = Communicator::world();
  int iters = 15;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--iters") iters = std::atoi(argv[i + 1]);
  if (comm.size() != 2) {
    if (comm.is_root()) std::fprintf(stderr, "fc_cost_model_check: run it on 2 ranks (mpirun -n 2)\n");
    return 2;
  }
  const std::vector<Regime> regimes = regimes_for_this_cpu(comm);
  if (regimes.empty()) return kSkipped;
  const Interconnect base = interconnect_preset("shared_memory");
  // A fit with points off is measured afresh (up to 3 attempts): the machine's slow spells last
  // seconds and sometimes cover a whole pass; a formula of the wrong shape fails every attempt.
  int failed = 0;
  for (const Regime& regime : regimes) {
    const auto attempt = [&] {
      return check(comm, regime,
                   {AllreduceAlgorithm::Tree, AllreduceAlgorithm::Ring, AllreduceAlgorithm::HalvingDoubling,
                    AllreduceAlgorithm::ParameterServer, AllreduceAlgorithm::Mpi},
                   with_topology(base, 1, 2), FittedLink::InterHost, iters) +
             check(comm, regime, {AllreduceAlgorithm::SharedMemory}, with_topology(base, 2, 1),
                   FittedLink::IntraHost, iters);
    };
    int off = attempt();
    for (int again = 1; again < 3 && off > 0; ++again) {
      if (comm.is_root()) std::printf("     %s: %d point(s) off, measuring again (attempt %d of 3)\n", regime.name, off, again + 1);
      off = attempt();
    }
    failed += off;
  }
  if (comm.is_root()) std::printf("%s: %d point(s) beyond %.0f%%\n", failed ? "FAILED" : "PASSED", failed, kTolerance * 100);
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace fc::distrib

int main(int argc, char** argv) {
  try {
    return fc::distrib::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fc_cost_model_check: %s\n", e.what());
    fc::distrib::Communicator::world().abort(1);
  }
}
