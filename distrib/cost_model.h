// Interconnect models and the alpha-beta time of each allreduce algorithm.
//
// A message of n bytes over one link takes alpha + n / bandwidth (alpha: latency in seconds;
// bandwidth: bytes per second, beta = 1 / bandwidth). Each algorithm's predicted time counts the
// messages on its critical path (see predicted_allreduce_seconds). Pure functions of plain data:
// the bucketing pass and the tests call them without MPI.
//
// Units: `gbps` means 10^9 BITS per second wherever it appears in a name users see (the recipe's
// bandwidth_gbps, `fcrun probe`, busbw_gbps of `fcrun bench allreduce`), the way interconnects are
// quoted (InfiniBand FDR: 56 Gb/s); inside, Interconnect holds bytes per second.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "distrib/allreduce.h"

namespace fc::distrib {

struct Interconnect {
  std::string name;
  double alpha_s = 0;           // latency of one message between hosts
  double beta_bytes_per_s = 0;  // bandwidth of one link between hosts (per direction)
  int ranks_per_host = 1;
  int hosts = 1;
  // Within a host (the "shm" algorithm's intra-host stage): memory latency/bandwidth of one rank.
  double intra_alpha_s = 0.5e-6;
  double intra_bytes_per_s = 10e9;

  int ranks() const { return ranks_per_host * hosts; }
};

// Presets: "infiniband_fdr", "cray_gemini", "10gbe", "100gbe", "nvlink", "shared_memory"
// (1 rank per host, 1 host: set the topology with with_topology). Unknown names throw fc::Error
// listing the known ones.
Interconnect interconnect_preset(std::string_view name);
const std::vector<std::string>& interconnect_preset_names();
// A recipe's { alpha_us = .., bandwidth_gbps = .. } (bandwidth in 10^9 bits/s). Both must be > 0.
Interconnect custom_interconnect(double alpha_us, double bandwidth_gbps);
Interconnect with_topology(Interconnect interconnect, int ranks_per_host, int hosts);

// Predicted seconds for one allreduce of `bytes` bytes over interconnect.ranks() ranks, p:
//   tree              2 ceil(log2 p) (alpha + n beta)            reduce up, broadcast down, whole buffer per hop
//   ring              2 (p-1) (alpha + n beta / p)               reduce-scatter + all-gather, n/p per step
//   halving_doubling  2 log2(p') alpha + 2 (p'-1)/p' n beta      p' = largest power of two <= p;
//                     + 2 (alpha + n beta) when p != p'          the fold and unfold of the extra ranks
//   ps                2 (p-1) (alpha + n beta)                   every message crosses the server's link
//   mpi               min(ring, halving_doubling)                a bound, not a model of the library: the
//                                                                better algorithm run as well as ours (OpenMPI
//                                                                4.1 over TCP measured 1.3-2.1x slower at
//                                                                >= 4 MiB, bench/EMULATION.md)
//   shm               intra: 2 alpha_m + 2 n beta_m              two barriers; each rank reads its n/p slice
//                                                                of all p parts (n) and writes the sum to all p
//                                                                parts (n): the buffers already lie in the
//                                                                shared window, no copy in or out (per rank,
//                                                                memory bandwidth beta_m = 1/intra_bytes_per_s)
//                     + ring over the hosts (alpha, beta), + alpha_m, when hosts > 1
// p = 1 costs 0 for every algorithm.
double predicted_allreduce_seconds(AllreduceAlgorithm algorithm, const Interconnect& interconnect, double bytes);

// The ceil(log2 p) and floor(log2 p) the formulas use (p >= 1).
int ceil_log2(int p);
int floor_log2(int p);

}  // namespace fc::distrib
