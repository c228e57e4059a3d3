// In data-parallel training (several ranks), the gradients of each fc.AllReduce bucket are computed
// straight into one contiguous region of the job's bucket arena (DataParallel::bucket_arena), at the
// same offset on every rank, so the allreduce sums them where they lie: no copy into or out of a
// fusion buffer. This is where each such gradient goes (the executor's bucket placement).
#pragma once

#include <unordered_map>

#include "ir/graph.h"
#include "runtime/backend.h"

namespace fc::runtime {

struct PlacedGradients {
  Tensor arena;                                          // the job's bucket arena (empty: none placed)
  std::unordered_map<const ir::Value*, Tensor> placed;  // gradient -> its view of the arena
};

// Empty unless this process runs data-parallel on several ranks.
PlacedGradients place_gradient_buckets(const ir::Graph& graph);

}  // namespace fc::runtime
