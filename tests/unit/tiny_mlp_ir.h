// A 4 -> 8 -> 3 MLP (Gemm, Relu, Gemm) in the text IR, for tests of passes over a whole small model.
#pragma once

#include "ir/graph.h"
#include "ir/text_format.h"

namespace fc::test {

inline ir::Graph tiny_mlp_ir() {
  return ir::parse_graph(R"(graph "mlp"(%x: f32[N,4]) -> (%y: f32[N,3]) opset 13 {
  param %w1: f32[8,4]
  param %b1: f32[8]
  param %w2: f32[3,8]
  param %b2: f32[3]
  %h: f32[N,8] = Gemm(%x, %w1, %b1) {transB = 1}
  %r: f32[N,8] = Relu(%h)
  %y: f32[N,3] = Gemm(%r, %w2, %b2) {transB = 1}
}
)",
                         "mlp.ir");
}

}  // namespace fc::test
