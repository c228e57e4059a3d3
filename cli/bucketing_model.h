// The bucketing pass's inputs from a recipe: the rank count and topology it plans for, the
// per-rank batch, the device's compute rate, and the interconnect's alpha-beta cost model
// (distrib/cost_model.h) as the pass's communication callback.
#pragma once

#include <string>

#include "distrib/cost_model.h"
#include "passes/allreduce_buckets.h"
#include "runtime/recipe.h"

namespace fc::cli {

// [distributed] ranks, else the size of the MPI job this process runs in, else 2.
int planned_ranks(const runtime::Recipe& r);
passes::BucketingOptions bucketing_options(const runtime::Recipe& r);

// "10gbe (alpha 10 us, 10 Gb/s), 4 ranks: 4 hosts x 1" for --explain.
std::string describe_interconnect(const runtime::Recipe& r);

// The one interconnect + algorithm builder of `fcc compile`, `fcc simulate` and `fcrun bench`:
// The recipe's [distributed] interconnect: a preset, or the custom table's alpha and bandwidth.
distrib::Interconnect recipe_link(const runtime::Recipe& r);
// `link` with `ranks` placed on hosts of `per_host` ranks each (0: all on one host for
// shared_memory, one per host otherwise; at most `ranks`).
distrib::Interconnect placed_on_hosts(const distrib::Interconnect& link, int ranks, int per_host);
// Our own allreduce algorithms on `ic` as the bucketing pass's candidates ("shm" first where ranks
// share a host; "mpi" is whatever the library does and "ps" never beats the tree), timed by the
// alpha-beta formulas (distrib/cost_model.h).
passes::CommModel comm_model(const distrib::Interconnect& ic);

}  // namespace fc::cli
