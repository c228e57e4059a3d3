// Attention fusion: the scaled dot-product attention PyTorch exports, as one fc.Attention node
// (ir/ops/attention.cpp), so that autodiff uses its gradient (fc.AttentionGrad) and no [T, S] score
// or probability matrix per head is kept for the backward. It runs on the forward graph, before
// autodiff. The chain, each intermediate read only by the next node:
//
//   s0 = MatMul(q [*, T, D], kt [*, D, S])         q, kt, v of equal rank and batch axes
//   s1 = Mul(s0, c) | Mul(c, s0) | Div(s0, c)     c: a scalar computed from constants only
//                                                 (absent: scale 1; Div: a Reciprocal of c is added)
//   s2 = Where(m, -inf, s1)   mask_keep 0         m bool; -inf a scalar Constant
//      | Where(m, s1, -inf)   mask_keep 1
//      | Add(s1, m) | Add(m, s1)                  m f32, computed from constants only
//      | (absent)
//   p  = Softmax(s2) over the last axis
//   y  = MatMul(p, v [*, S, E])
//
// becomes y, lse = fc.Attention(q, kt, v, scale, m) {mask_keep}. A scale or f32 mask that depends on
// a trained parameter or an input is left unfused: the fused op has no gradient for them. Where's
// fill must be exactly -inf: a finite fill gives a fully masked row weight, which the fused op would
// not. Parameters named in `frozen` (`[model] frozen`: no gradient, no update) count as constants:
// PyTorch 2.x's optimized dynamo export holds the scale and the -inf fill as scalar initializers.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "ir/graph.h"

namespace fc::passes {

// How many attention subgraphs were fused.
int64_t fuse_attention(ir::Graph& g, const std::set<std::string>& frozen = {});

}  // namespace fc::passes
