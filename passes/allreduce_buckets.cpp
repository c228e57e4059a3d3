#include "passes/allreduce_buckets.h"

#include <algorithm>
#include <unordered_map>

#include "ir/error.h"
#include "ir/op_registry.h"

namespace fc::passes {

std::vector<std::vector<size_t>> plan_buckets(const std::vector<size_t>& bytes, size_t first_bucket_bytes,
                                              size_t bucket_bytes) {
  std::vector<std::vector<size_t>> buckets;
  size_t filled = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const size_t limit = buckets.size() == 1 ? first_bucket_bytes : bucket_bytes;
    // A gradient opens a new bucket when it would overflow a non-empty one (so one larger than
    // the limit gets a bucket of its own).
    if (buckets.empty() || (filled > 0 && filled + bytes[i] > limit)) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(i);
    filled += bytes[i];
  }
  return buckets;
}

size_t insert_allreduce_buckets(ir::Graph& g, const BucketingOptions& options) {
  // Optimizer updates and the gradient each reads (input 1).
  std::vector<ir::Node*> updates;
  for (const auto& n : g.nodes())
    if (n->domain == "fc" && (n->op == "SGDUpdate" || n->op == "AdamWUpdate")) updates.push_back(n.get());
  if (updates.empty()) return 0;
  std::unordered_map<const ir::Node*, size_t> position;
  for (size_t i = 0; i < g.nodes().size(); ++i) position[g.nodes()[i].get()] = i;
  // Backward completion order: by the position of each gradient's producer.
  auto produced_at = [&](const ir::Node* u) {
    const ir::Value* grad = u->inputs[1];
    return grad->producer ? position[grad->producer] : 0;
  };
  std::stable_sort(updates.begin(), updates.end(),
                   [&](const ir::Node* a, const ir::Node* b) { return produced_at(a) < produced_at(b); });
  std::vector<size_t> bytes;
  for (const ir::Node* u : updates) {
    const ir::TensorType& t = u->inputs[1]->type;
    FC_CHECK(t.is_concrete(), u->describe(), ": gradient of unknown size ", ir::to_string(t));
    bytes.push_back(static_cast<size_t>(t.numel()) * ir::dtype_size(t.dtype));
  }
  const auto mib = [](double mb) { return static_cast<size_t>(mb * 1024 * 1024); };
  auto buckets = plan_buckets(bytes, mib(options.first_bucket_mb), mib(options.bucket_mb));
  for (size_t b = 0; b < buckets.size(); ++b) {
    std::vector<ir::Value*> ins, outs;
    for (size_t i : buckets[b]) {
      ir::Value* grad = updates[i]->inputs[1];
      ins.push_back(grad);
      outs.push_back(g.add_value(g.unique_name(grad->name + "/allreduced"), grad->type));
    }
    ir::Node* ar = g.add_node("AllReduce", ins, outs,
                              {{"algorithm", options.algorithm}, {"bucket", static_cast<int64_t>(b)}},
                              g.unique_node_name("allreduce_bucket_" + std::to_string(b)));
    ar->domain = "fc";
    for (size_t k = 0; k < buckets[b].size(); ++k) updates[buckets[b][k]]->inputs[1] = outs[k];
  }
  g.toposort();
  return buckets.size();
}

}  // namespace fc::passes
