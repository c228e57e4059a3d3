// Measures this machine's interconnect between two ranks in the cost model's terms (cost_model.h):
// alpha, the one-way time of an empty message, and the bandwidth one message stream reaches.
// Ping-pong between ranks 0 and 1; the other ranks wait.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "distrib/communicator.h"

namespace fc::distrib {

struct ProbeResult {
  double alpha_us = 0;        // median one-way time of a 1-byte message
  double bandwidth_gbps = 0;  // 10^9 bits per second, from a least-squares fit of one-way time on size
  // The measurements the fit used: message bytes and median one-way seconds.
  std::vector<size_t> bytes;
  std::vector<double> seconds;
};

// Collective over comm (needs >= 2 ranks). `max_bytes` bounds the largest message (>= 1 MiB).
// Every rank returns the same result.
ProbeResult probe_interconnect(const Communicator& comm, size_t max_bytes = size_t{16} << 20, int iters = 20);

// `interconnect = { alpha_us = 0.52, bandwidth_gbps = 61.30 }`
std::string to_recipe_line(const ProbeResult& result);

// Least-squares slope and intercept of y on x (at least two distinct x).
struct LineFit {
  double slope = 0, intercept = 0;
};
LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace fc::distrib
