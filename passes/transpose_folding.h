// Transpose folding: matrix products read transposed operands through strides instead of a
// Transpose copying them first. PyTorch exports a linear layer as MatMul(x, Transpose(W)) and the
// MatMul gradient rule (ir/ops/gemm.cpp) transposes the last two axes of its operands, so a
// training step of a transformer holds a Transpose per weight and per product gradient, each a
// full copy of a matrix. Rewrites, to a fixpoint, for operands of rank >= 2 (a Transpose here
// swaps the last two axes and keeps the rest):
//
//   MatMul(Transpose(A), B)           -> fc.TransposedMatMul(A, B) {trans_a = 1}   (B likewise)
//   fc.TransposedMatMul(Transpose(A), B) {trans_a} -> fc.TransposedMatMul(A, B) {trans_a = !trans_a}
//   Transpose(MatMul'(A, B)), the product read by that Transpose alone
//                                     -> fc.TransposedMatMul(B, A) with the flags swapped and negated
//                                        ((A' B')^T = B'^T A'^T)
//
// Transposes left without a reader go. Runs after autodiff (fc.TransposedMatMul has no gradient).
#pragma once

#include <cstdint>

#include "ir/graph.h"

namespace fc::passes {

struct TransposeFolding {
  int64_t operands = 0;  // Transposes of operands now read through strides
  int64_t outputs = 0;   // Transposes of products now computed by the product itself
};

TransposeFolding fold_transposes(ir::Graph& g);

}  // namespace fc::passes
