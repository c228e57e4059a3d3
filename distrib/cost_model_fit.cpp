// Least-squares fit of alpha and bandwidth to measured allreduce times (see cost_model_fit.h).
#include "distrib/cost_model_fit.h"

#include <cmath>

#include "support/error.h"

namespace fc::distrib {

namespace {

Interconnect with_link(Interconnect ic, FittedLink link, double alpha_s, double bytes_per_s) {
  if (link == FittedLink::InterHost) {
    ic.alpha_s = alpha_s;
    ic.beta_bytes_per_s = bytes_per_s;
  } else {
    ic.intra_alpha_s = alpha_s;
    ic.intra_bytes_per_s = bytes_per_s;
  }
  return ic;
}

// The coefficients a, b of t = a * alpha + b / bandwidth, read off the formula itself: the time
// with alpha = 1 s and an infinitely fast link, and with no latency and 1 byte/s. (The parameters
// of the other link stay as given and add a constant that the fit subtracts first.)
struct Coefficients {
  double a = 0, b = 0, rest = 0;
};

Coefficients coefficients(const Interconnect& topology, FittedLink link, const AllreduceMeasurement& m) {
  constexpr double kInfinitelyFast = 1e300;
  const double rest = predicted_allreduce_seconds(m.algorithm, with_link(topology, link, 0, kInfinitelyFast), m.bytes);
  const double a = predicted_allreduce_seconds(m.algorithm, with_link(topology, link, 1, kInfinitelyFast), m.bytes);
  const double b = predicted_allreduce_seconds(m.algorithm, with_link(topology, link, 0, 1), m.bytes);
  return {a - rest, b - rest, rest};
}

}  // namespace

Interconnect fit_interconnect(const Interconnect& topology, FittedLink link,
                              const std::vector<AllreduceMeasurement>& measurements) {
  FC_CHECK(measurements.size() >= 2, "fit_interconnect: need at least two measurements");
  // Rows scaled by 1/t: minimise sum ((a alpha + b x + rest - t) / t)^2 over alpha and x = 1/bandwidth.
  double saa = 0, sab = 0, sbb = 0, sat = 0, sbt = 0;
  for (const AllreduceMeasurement& m : measurements) {
    FC_CHECK(m.seconds > 0 && m.bytes >= 0, "fit_interconnect: measurements need seconds > 0");
    const Coefficients c = coefficients(topology, link, m);
    const double a = c.a / m.seconds, b = c.b / m.seconds, t = (m.seconds - c.rest) / m.seconds;
    saa += a * a;
    sab += a * b;
    sbb += b * b;
    sat += a * t;
    sbt += b * t;
  }
  const double det = saa * sbb - sab * sab;
  double alpha = det > 0 ? (sat * sbb - sbt * sab) / det : -1;
  double x = det > 0 ? (saa * sbt - sab * sat) / det : 0;
  if (alpha < 0) {  // latency below what the sizes can resolve: fit the bandwidth alone
    alpha = 0;
    FC_CHECK(sbb > 0, "fit_interconnect: the measurements do not depend on the bandwidth");
    x = sbt / sbb;
  }
  FC_CHECK(x > 0 && std::isfinite(x), "fit_interconnect: the measured times do not grow with the size");
  return with_link(topology, link, alpha, 1 / x);
}

double relative_error(const Interconnect& interconnect, const AllreduceMeasurement& m) {
  return predicted_allreduce_seconds(m.algorithm, interconnect, m.bytes) / m.seconds - 1;
}

}  // namespace fc::distrib
