// Update fusion (horizontal): the optimizer updates of an allreduce bucket become one
// fc.HorizontalFused node (ir/ops/horizontal_fused.cpp), so a bucket's whole SGD-momentum or AdamW
// step is one JIT-compiled kernel over all its tensors instead of one kernel per tensor.
//
// Nodes are grouped when their op has a scalar form with table inputs (OpSchema::table_inputs: the
// hyper-parameter vector), they have the same op, attributes and input/output counts, read the same
// tables, and their other inputs come from the same producing nodes (for updates: one allreduce
// bucket; parameters and graph inputs count as no producer). The fused node takes the place of the
// group's last member: everything the group reads exists there. A group is left as it is when a
// node between its first and last member reads a member's output. Each segment keeps its member's
// in-place pairs (OpSchema::in_place), so in-place updates stay in place.
// The program is each member's own scalar form, so fusing never changes a result.
#pragma once

#include <cstdint>

#include "ir/graph.h"

namespace fc::passes {

struct UpdateFusionStats {
  int64_t groups = 0;       // fc.HorizontalFused nodes made
  int64_t nodes_fused = 0;  // nodes they replaced
};

UpdateFusionStats fuse_updates(ir::Graph& g);

}  // namespace fc::passes
