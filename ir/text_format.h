// The IR's text format. print_graph -> parse_graph -> print_graph reproduces the text exactly.
//
//   graph main(%x: f32[N,1,28,28]) -> (%y: f32[N,10]) opset 17 {
//     param %fc.weight: f32[10,784]            # initializer, values elided unless small
//     %t1: f32[N,784] = Flatten(%x) {axis = 1}
//     %y: f32[N,10] = Gemm(%t1, %fc.weight, %fc.bias) {transB = 1}
//   }
#pragma once

#include <string>
#include <string_view>

#include "ir/graph.h"

namespace fc::ir {

struct PrintOptions {
  size_t max_inline_elements = 16;  // tensors (params, tensor attributes) up to this size print their values
};

std::string print_graph(const Graph& g, const PrintOptions& options = {});
// Throws fc::Error "<file>:<line>:<col>: message" on a syntax error.
Graph parse_graph(std::string_view text, const std::string& filename = "<text>");

}  // namespace fc::ir
