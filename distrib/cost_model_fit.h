// Fitting the cost model to measured allreduce times: the alpha and bandwidth that make the
// alpha-beta formulas (cost_model.h) explain a set of measurements best.
//
// Every formula is linear in alpha and in 1/bandwidth for a fixed rank count and size:
// t = a * alpha + b / bandwidth. The fit finds the (alpha >= 0, bandwidth > 0) that minimise the
// squared RELATIVE errors over all measurements (a 2x2 least-squares problem), so that a 1 MiB and
// a 64 MiB message weigh the same. Fitting ONE pair to many algorithms and sizes at once is what
// makes it a test of the formulas' shape: with two parameters per link, a formula with the wrong
// dependence on the size, the rank count or the algorithm cannot match every point.
#pragma once

#include <vector>

#include "distrib/allreduce.h"
#include "distrib/cost_model.h"

namespace fc::distrib {

struct AllreduceMeasurement {
  AllreduceAlgorithm algorithm = AllreduceAlgorithm::Ring;
  double bytes = 0;
  double seconds = 0;
};

// Which parameters of the interconnect the fit sets: the inter-host link (alpha_s,
// beta_bytes_per_s; every algorithm but SharedMemory) or the intra-host memory (intra_alpha_s,
// intra_bytes_per_s; SharedMemory on one host).
enum class FittedLink { InterHost, IntraHost };

// `topology` gives the rank layout (ranks_per_host, hosts) and the parameters not fitted. Needs at
// least two measurements with different sizes and seconds > 0; throws fc::Error otherwise.
Interconnect fit_interconnect(const Interconnect& topology, FittedLink link,
                              const std::vector<AllreduceMeasurement>& measurements);

// predicted / measured - 1 for one measurement.
double relative_error(const Interconnect& interconnect, const AllreduceMeasurement& m);

}  // namespace fc::distrib
