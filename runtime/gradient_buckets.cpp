#include "runtime/gradient_buckets.h"

#include <utility>
#include <vector>

#include "ir/op_registry.h"
#include "runtime/data_parallel.h"

namespace fc::runtime {

PlacedGradients place_gradient_buckets(const ir::Graph& graph) {
  PlacedGradients r;
  DataParallel* dp = data_parallel();
  if (!dp || dp->size() <= 1) return r;
  // A gradient can live in the arena only if the allreduce is its one reader: the sum overwrites
  // it in place while backward goes on. Every rank decides alike (same graph), so buckets sit at
  // the same offsets everywhere, as the shared-memory allreduce needs.
  std::unordered_map<const ir::Value*, int> readers;
  for (const auto& n : graph.nodes())
    for (ir::Value* in : n->inputs)
      if (in) ++readers[in];
  for (ir::Value* o : graph.outputs) ++readers[o];
  for (const auto& [param, next] : graph.state_updates) ++readers[next];
  constexpr size_t kAlignFloats = 16;  // each bucket starts on a 64-byte boundary
  std::vector<std::pair<const ir::Value*, size_t>> offsets;
  size_t total = 0;
  for (const auto& n : graph.nodes()) {
    if (ir::op_kind(*n) != ir::OpKind::Communication) continue;
    bool placeable = true;
    for (ir::Value* in : n->inputs)
      placeable = placeable && in && in->producer && readers[in] == 1 && in->type.dtype == ir::DType::F32 &&
                  in->type.is_concrete();
    if (!placeable) continue;
    total = (total + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
    for (ir::Value* in : n->inputs) {
      offsets.emplace_back(in, total);
      total += static_cast<size_t>(in->type.numel());
    }
  }
  if (offsets.empty()) return r;
  r.arena = dp->bucket_arena(total);
  for (const auto& [v, offset] : offsets) r.placed[v] = r.arena.slice_view(offset, v->type.sizes());
  return r;
}

}  // namespace fc::runtime
