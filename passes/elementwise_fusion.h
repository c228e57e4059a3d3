// Elementwise fusion: groups chains of elementwise ops (every op whose schema has a scalar form,
// ir/op_registry.h ScalarFn) into fc.Fused nodes (ir/ops/fused.cpp), forward and backward alike:
// a residual Add + Relu, a ReluGrad + the gradient sum feeding it, bias Add + activation, Mul + Add
// chains. The runtime compiles each fc.Fused node into one LLVM kernel, so a group reads its inputs
// once and writes only the values used outside it.
//
// Rules, on a graph in topological order:
//   - a node joins the group of one of its producers when its outputs have the group's shape (the
//     broadcast shape of all its inputs), all f32, and every input not made inside the group already
//     exists where the group starts (is produced before the group's first node, or is a parameter or
//     graph input); otherwise it starts a group of its own;
//   - the fused node takes the place of the group's first node, so everything it reads exists there
//     and everything that read a member's value still runs after it;
//   - a member's output becomes an output of the fused node when anything outside the group reads it
//     (or it is a graph output or new training state); the rest are never materialised;
//   - groups of one node stay as they are (their own kernel is as good).
// Before grouping, a Relu that is the only reader of a BatchNormTraining's or a Conv's output is
// folded into that node (BN's `relu` attribute; Conv becomes fc.ConvRelu): BN-apply + ReLU and
// convolution + ReLU each in one pass.
// Every scalar form gives bit for bit what the op's kernel gives, so fusion never changes a result.
#pragma once

#include <cstdint>

#include "ir/graph.h"

namespace fc::passes {

struct FusionStats {
  int64_t groups = 0;        // fc.Fused nodes made
  int64_t nodes_fused = 0;   // nodes they replaced
  int64_t relus_folded = 0;  // Relus folded into the BatchNormTraining or Conv before them
};

FusionStats fuse_elementwise(ir::Graph& g);

}  // namespace fc::passes
