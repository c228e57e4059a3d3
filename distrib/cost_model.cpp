// Interconnect presets and the alpha-beta allreduce time formulas (see cost_model.h).
#include "distrib/cost_model.h"

#include <algorithm>
#include <cmath>

#include "support/error.h"

namespace fc::distrib {

namespace {

// Figures are nominal data rates and typical small-message MPI latencies, not measurements of ours;
// `fcrun probe` measures the machine at hand.
Interconnect make(std::string name, double alpha_us, double bytes_per_s) {
  Interconnect ic;
  ic.name = std::move(name);
  ic.alpha_s = alpha_us * 1e-6;
  ic.beta_bytes_per_s = bytes_per_s;
  return ic;
}

const std::vector<Interconnect>& presets() {
  static const std::vector<Interconnect> list = [] {
    std::vector<Interconnect> v;
    // InfiniBand FDR 4x: 56 Gb/s signalling, 54.5 Gb/s of data after 64b/66b coding = 6.8 GB/s;
    // ~1 us MPI latency.
    v.push_back(make("infiniband_fdr", 1.0, 6.8e9));
    // Cray Gemini, the interconnect of ORNL's Titan where FireCaffe ran. Assumption from Alverson,
    // Roweth, Kaplan, "The Gemini System Interconnect" (HOTI 2010): MPI latency ~1.2-1.5 us and an
    // effective point-to-point bandwidth of about 6-8 GB/s; we take the conservative ends, 1.5 us
    // and 6 GB/s (the link is shared by the two nodes of a Gemini ASIC).
    v.push_back(make("cray_gemini", 1.5, 6.0e9));
    // 10 Gigabit Ethernet: 1.25 GB/s line rate; ~10 us through a kernel TCP stack.
    v.push_back(make("10gbe", 10.0, 1.25e9));
    // 100 Gigabit Ethernet: 12.5 GB/s line rate; ~2 us with RDMA (RoCE).
    v.push_back(make("100gbe", 2.0, 12.5e9));
    // NVLink 3 (A100): 12 links x 25 GB/s = 300 GB/s per direction per GPU; ~3 us per message
    // (dominated by kernel launch and synchronisation, as in NCCL).
    v.push_back(make("nvlink", 3.0, 300e9));
    // Ranks of one host through shared memory: ~0.5 us to pass a flag, ~10 GB/s for one core's
    // memcpy (the issue measured ~17 GB/s of memory bandwidth on our machine for all cores).
    v.push_back(make("shared_memory", 0.5, 10e9));
    return v;
  }();
  return list;
}

}  // namespace

Interconnect interconnect_preset(std::string_view name) {
  std::string known;
  for (const Interconnect& ic : presets()) {
    if (ic.name == name) return ic;
    known += (known.empty() ? "\"" : ", \"") + ic.name + "\"";
  }
  fail("unknown interconnect \"", name, "\" (known: ", known, ", or { alpha_us = .., bandwidth_gbps = .. })");
}

const std::vector<std::string>& interconnect_preset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const Interconnect& ic : presets()) v.push_back(ic.name);
    return v;
  }();
  return names;
}

Interconnect custom_interconnect(double alpha_us, double bandwidth_gbps) {
  FC_CHECK(std::isfinite(alpha_us) && alpha_us > 0, "interconnect alpha_us must be > 0, got ", alpha_us);
  FC_CHECK(std::isfinite(bandwidth_gbps) && bandwidth_gbps > 0, "interconnect bandwidth_gbps must be > 0, got ",
           bandwidth_gbps);
  return make("custom", alpha_us, bandwidth_gbps * 1e9 / 8);
}

Interconnect with_topology(Interconnect interconnect, int ranks_per_host, int hosts) {
  FC_CHECK(ranks_per_host >= 1 && hosts >= 1, "topology needs ranks_per_host >= 1 and hosts >= 1, got ", ranks_per_host,
           " x ", hosts);
  interconnect.ranks_per_host = ranks_per_host;
  interconnect.hosts = hosts;
  return interconnect;
}

int ceil_log2(int p) {
  FC_ASSERT(p >= 1);
  int k = 0;
  while ((1LL << k) < p) ++k;
  return k;
}

int floor_log2(int p) {
  FC_ASSERT(p >= 1);
  int k = 0;
  while ((2LL << k) <= p) ++k;
  return k;
}

namespace {

// alpha + n beta for one message of `bytes` over the inter-host link.
double message(const Interconnect& ic, double bytes) { return ic.alpha_s + bytes / ic.beta_bytes_per_s; }

double ring_seconds(const Interconnect& ic, int p, double bytes) { return 2.0 * (p - 1) * message(ic, bytes / p); }

double halving_doubling_seconds(const Interconnect& ic, int p, double bytes) {
  const int log_p2 = floor_log2(p);
  const double p2 = std::ldexp(1.0, log_p2);
  double t = 2.0 * log_p2 * ic.alpha_s + 2.0 * (p2 - 1) / p2 * bytes / ic.beta_bytes_per_s;
  if (p2 != p) t += 2.0 * message(ic, bytes);
  return t;
}

}  // namespace

double predicted_allreduce_seconds(AllreduceAlgorithm algorithm, const Interconnect& ic, double bytes) {
  FC_CHECK(ic.alpha_s >= 0 && ic.beta_bytes_per_s > 0 && ic.intra_bytes_per_s > 0, "interconnect \"", ic.name,
           "\" needs alpha >= 0 and bandwidths > 0");
  FC_CHECK(bytes >= 0, "allreduce of a negative byte count");
  const int p = ic.ranks();
  FC_CHECK(p >= 1, "interconnect \"", ic.name, "\" has no ranks");
  if (p == 1) return 0;
  switch (algorithm) {
    case AllreduceAlgorithm::Tree:
      return 2.0 * ceil_log2(p) * message(ic, bytes);
    case AllreduceAlgorithm::Ring:
      return ring_seconds(ic, p, bytes);
    case AllreduceAlgorithm::HalvingDoubling:
      return halving_doubling_seconds(ic, p, bytes);
    case AllreduceAlgorithm::ParameterServer:
      return 2.0 * (p - 1) * message(ic, bytes);
    case AllreduceAlgorithm::Mpi:
      return std::min(ring_seconds(ic, p, bytes), halving_doubling_seconds(ic, p, bytes));
    case AllreduceAlgorithm::SharedMemory: {
      double t = 0;
      if (ic.ranks_per_host > 1) t += 2.0 * ic.intra_alpha_s + 2.0 * bytes / ic.intra_bytes_per_s;
      if (ic.hosts > 1) t += ring_seconds(ic, ic.hosts, bytes) + ic.intra_alpha_s;
      return t;
    }
  }
  FC_ASSERT(false);
}

}  // namespace fc::distrib
