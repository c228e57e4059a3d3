// Interconnect probe (see probe.h).
#include "distrib/probe.h"

#include <algorithm>
#include <cstdio>

#include "support/error.h"

namespace fc::distrib {

namespace {

constexpr int kTag = 0x70b;

// Median one-way seconds of a `bytes` message between ranks 0 and 1 (half a round trip).
double ping_pong(const Communicator& comm, size_t bytes, int iters) {
  std::vector<char> buffer(std::max<size_t>(bytes, 1));
  std::vector<double> times;
  const int me = comm.rank();
  for (int i = -2; i < iters; ++i) {  // two warm-up round trips
    comm.barrier();
    if (me > 1) continue;
    const double start = Communicator::wtime();
    MPI_Request r;
    if (me == 0) {
      r = comm.isend_bytes(buffer.data(), bytes, 1, kTag);
      Communicator::wait(r);
      r = comm.irecv_bytes(buffer.data(), bytes, 1, kTag);
      Communicator::wait(r);
    } else {
      r = comm.irecv_bytes(buffer.data(), bytes, 0, kTag);
      Communicator::wait(r);
      r = comm.isend_bytes(buffer.data(), bytes, 0, kTag);
      Communicator::wait(r);
    }
    if (i >= 0) times.push_back((Communicator::wtime() - start) / 2);
  }
  double median = 0;
  if (me == 0) {
    std::sort(times.begin(), times.end());
    median = times[times.size() / 2];
  }
  comm.broadcast_bytes(&median, sizeof median, 0);
  return median;
}

}  // namespace

LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  FC_CHECK(x.size() == y.size() && x.size() >= 2, "fit_line: need at least two points");
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(x.size());
  my /= static_cast<double>(y.size());
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  FC_CHECK(sxx > 0, "fit_line: the x values are all equal");
  return {sxy / sxx, my - sxy / sxx * mx};
}

ProbeResult probe_interconnect(const Communicator& comm, size_t max_bytes, int iters) {
  FC_CHECK(comm.size() >= 2, "fcrun probe needs at least 2 ranks (fcrun probe -n 2)");
  FC_CHECK(max_bytes >= (size_t{1} << 20), "fcrun probe: the largest message must be >= 1 MiB");
  FC_CHECK(iters >= 1, "fcrun probe: --iters must be >= 1");
  ProbeResult r;
  r.alpha_us = ping_pong(comm, 1, std::max(iters, 50)) * 1e6;
  // Bandwidth from sizes where the per-byte cost dominates: 1 MiB up to max_bytes, doubling.
  std::vector<double> x, y;
  for (size_t bytes = size_t{1} << 20; bytes <= max_bytes; bytes *= 2) {
    const double t = ping_pong(comm, bytes, iters);
    r.bytes.push_back(bytes);
    r.seconds.push_back(t);
    x.push_back(static_cast<double>(bytes));
    y.push_back(t);
  }
  if (x.size() == 1) {  // one size only: the line through alpha
    r.bandwidth_gbps = 8.0 * x[0] / std::max(y[0] - r.alpha_us * 1e-6, 1e-12) / 1e9;
  } else {
    const LineFit f = fit_line(x, y);
    FC_CHECK(f.slope > 0, "fcrun probe: message time did not grow with size (measurements too noisy; retry)");
    r.bandwidth_gbps = 8.0 / f.slope / 1e9;
  }
  return r;
}

std::string to_recipe_line(const ProbeResult& result) {
  char line[160];
  std::snprintf(line, sizeof line, "interconnect = { alpha_us = %.2f, bandwidth_gbps = %.2f }", result.alpha_us,
                result.bandwidth_gbps);
  return line;
}

}  // namespace fc::distrib
