// The bucketing pass's inputs from a recipe: the rank count and topology it plans for, the
// per-rank batch, the device's compute rate, and the interconnect's alpha-beta cost model
// (distrib/cost_model.h) as the pass's communication callback.
#pragma once

#include <string>

#include "passes/allreduce_buckets.h"
#include "runtime/recipe.h"

namespace fc::cli {

// [distributed] ranks, else the size of the MPI job this process runs in, else 2.
int planned_ranks(const runtime::Recipe& r);
passes::BucketingOptions bucketing_options(const runtime::Recipe& r);

// "10gbe (alpha 10 us, 10 Gb/s), 4 ranks: 4 hosts x 1" for --explain.
std::string describe_interconnect(const runtime::Recipe& r);

}  // namespace fc::cli
