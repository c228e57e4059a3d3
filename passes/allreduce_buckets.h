// Gradient bucketing for data-parallel training: groups the gradients consumed by the optimizer
// updates, in the order backward produces them, into fc.AllReduce nodes, and rewires each update
// to read its gradient's reduced value.
//
// Bucket boundaries (and, with algorithm "auto", each bucket's algorithm) come from a cost model:
// backward runs for `backward_s`, gradient i is ready at ready_s (the backward compute before it at
// the per-rank batch); buckets reduce one after another on one communication channel, each
// starting when its last gradient is ready and the previous bucket is done. The plan minimises the
// end of the last reduction, i.e. the communication that cannot hide behind the rest of backward
// (exposed time), by a dynamic program over the boundaries (exact under this model: a bucket's end
// only grows with the previous one's). So a first small bucket starts communication early where
// that pays, and the plan changes with the batch (compute to hide behind) and the interconnect.
// A fixed `bucket_mb` keeps size-limited buckets (1 MiB first) and only predicts their times.
//
// The communication model is a callback so that passes/ stays free of MPI; cli/ builds it from
// distrib/cost_model.h for the recipe's interconnect and rank count.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace fc::passes {

// Pure core of the fixed-size mode: partitions gradients of the given sizes (in backward
// completion order) into consecutive buckets. Returns, per bucket, the indices of its gradients.
std::vector<std::vector<size_t>> plan_buckets(const std::vector<size_t>& bytes, size_t first_bucket_bytes,
                                              size_t bucket_bytes);

struct GradientSlot {
  size_t bytes = 0;
  double ready_s = 0;  // backward time until this gradient is computed
};

// Predicted seconds of one allreduce of `bytes` bytes with an algorithm (cost_model.h's names).
struct CommModel {
  std::vector<std::string> algorithms;  // candidates; the first is preferred on ties
  std::function<double(const std::string& algorithm, double bytes)> seconds;
};

struct PlannedBucket {
  std::vector<size_t> grads;         // indices into the gradient list, consecutive
  std::vector<std::string> tensors;  // the gradients' parameter names (filled by the graph pass)
  size_t bytes = 0;
  std::string algorithm;
  double ready_s = 0, start_s = 0, comm_s = 0;
  double exposed_s = 0;  // how much later the step ends because of this bucket
};

struct BucketPlan {
  std::vector<PlannedBucket> buckets;
  double backward_s = 0;
  double comm_s = 0;     // sum over buckets
  double exposed_s = 0;  // communication not hidden behind backward
  double step_overlapped_s() const { return backward_s + exposed_s; }
  double step_serial_s() const { return backward_s + comm_s; }  // allreduce after backward
};

// The plan minimising the exposed time; `algorithm` = "auto" picks the cheapest of model.algorithms
// per bucket, anything else is used for every bucket.
BucketPlan plan_buckets_by_cost(const std::vector<GradientSlot>& grads, double backward_s, const CommModel& model,
                                const std::string& algorithm);
// Predicted times of a given grouping (same schedule as above).
BucketPlan schedule_buckets(const std::vector<std::vector<size_t>>& groups, const std::vector<GradientSlot>& grads,
                            double backward_s, const CommModel& model, const std::string& algorithm);

struct BucketingOptions {
  std::string algorithm = "auto";
  double bucket_mb = 0;  // > 0: fixed-size buckets (first at most first_bucket_mb); 0: by cost
  double first_bucket_mb = 1;
  CommModel comm;                     // no seconds callback: fixed-size buckets of 4 MiB
  const ir::Value* loss = nullptr;    // backward starts after its producer (null: at the first node)
  int64_t per_rank_batch = 1;         // the batch each rank computes backward on
  double device_flops = 30e9;         // sustained FLOP/s of one rank
  double device_bytes_per_s = 10e9;   // memory bandwidth of one rank
};

// Inserts the buckets and annotates each fc.AllReduce with predicted_comm_us and
// predicted_exposed_us. Returns the plan (no buckets when the graph has no optimizer updates).
BucketPlan insert_allreduce_buckets(ir::Graph& g, const BucketingOptions& options);

}  // namespace fc::passes
