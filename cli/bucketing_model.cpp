#include "cli/bucketing_model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "distrib/cost_model.h"
#include "support/error.h"

namespace fc::cli {

distrib::Interconnect recipe_link(const runtime::Recipe& r) {
  return r.interconnect == "custom" ? distrib::custom_interconnect(r.interconnect_alpha_us, r.interconnect_bandwidth_gbps)
                                    : distrib::interconnect_preset(r.interconnect);
}

distrib::Interconnect placed_on_hosts(const distrib::Interconnect& link, int ranks, int per_host) {
  if (per_host == 0) per_host = link.name == "shared_memory" ? ranks : 1;
  per_host = std::min(per_host, ranks);
  return distrib::with_topology(link, per_host, (ranks + per_host - 1) / per_host);
}

passes::CommModel comm_model(const distrib::Interconnect& ic) {
  passes::CommModel m;
  m.algorithms = {"ring", "halving_doubling", "tree"};
  if (ic.ranks_per_host > 1) m.algorithms.insert(m.algorithms.begin(), "shm");
  m.seconds = [ic](const std::string& algorithm, double bytes) {
    return distrib::predicted_allreduce_seconds(distrib::allreduce_algorithm_from_string(algorithm), ic, bytes);
  };
  return m;
}

namespace {

distrib::Interconnect interconnect_of(const runtime::Recipe& r) {
  return placed_on_hosts(recipe_link(r), planned_ranks(r), static_cast<int>(r.ranks_per_host));
}

}  // namespace

int planned_ranks(const runtime::Recipe& r) {
  if (r.planned_ranks > 0) return static_cast<int>(r.planned_ranks);
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* s = std::getenv(v)) return std::max(1, std::atoi(s));
  return 2;
}

passes::BucketingOptions bucketing_options(const runtime::Recipe& r) {
  passes::BucketingOptions o;
  o.algorithm = r.allreduce;
  if (r.bucket_mb != "auto") o.bucket_mb = std::stod(r.bucket_mb);
  const int ranks = planned_ranks(r);
  o.per_rank_batch = std::max<int64_t>(1, r.batch_size / ranks);
  o.device_flops = r.device_gflops * 1e9;
  o.comm = comm_model(interconnect_of(r));
  return o;
}

std::string describe_interconnect(const runtime::Recipe& r) {
  const distrib::Interconnect ic = interconnect_of(r);
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s (alpha %.3g us, %.4g Gb/s), %d ranks: %d host(s) x %d", ic.name.c_str(),
                ic.alpha_s * 1e6, ic.beta_bytes_per_s * 8 / 1e9, planned_ranks(r), ic.hosts, ic.ranks_per_host);
  return buf;
}

}  // namespace fc::cli
