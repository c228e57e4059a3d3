// Gradient bucketing for data-parallel training: groups the gradients consumed by the optimizer
// updates, in the order backward produces them, into fc.AllReduce nodes, and rewires each update
// to read its gradient's reduced value. The first bucket is kept small so that communication can
// start early in backward; later buckets are filled up to the bucket size.
//
// Bucket sizes are given here (recipe `[distributed] bucket_mb`, "auto" = 4 MiB with a 1 MiB first
// bucket); choosing them from the interconnect cost model is the next step of issue 4.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace fc::passes {

// Pure core: partitions gradients of the given sizes (in backward completion order) into
// consecutive buckets. Returns, per bucket, the indices of its gradients.
std::vector<std::vector<size_t>> plan_buckets(const std::vector<size_t>& bytes, size_t first_bucket_bytes,
                                              size_t bucket_bytes);

struct BucketingOptions {
  std::string algorithm = "auto";
  double bucket_mb = 4;
  double first_bucket_mb = 1;
};

// Returns the number of buckets inserted (0 when the graph has no optimizer updates).
size_t insert_allreduce_buckets(ir::Graph& g, const BucketingOptions& options);

}  // namespace fc::passes
