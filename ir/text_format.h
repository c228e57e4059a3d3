// The IR's text format. print_graph -> parse_graph -> print_graph reproduces the text exactly.
//
//   graph main(%x: f32[N,1,28,28], %labels: i64[N]) -> (%loss: f32[]) opset 17 {
//     param %fc.weight: f32[10,784]            # initializer, values elided unless small
//     param %fc.bias: f32[10] = [0.5, -1, 0, 0, 0, 0, 0, 0, 0, 0.25]
//     %t1: f32[N,784] = Flatten(%x) {axis = 1}
//     %y: f32[N,10] = Gemm(%t1, %fc.weight, %fc.bias) {transB = 1} @"/fc/Gemm"
//     %loss: f32[], %p: f32[N,10] = fc.SoftmaxCrossEntropy(%y, %labels)
//     ...
//     update %fc.weight <- %fc.weight.next     # training state (Graph::state_updates)
//   }
//
// Grammar ('#' starts a comment to the end of the line; whitespace and line breaks are free):
//   graph     := 'graph' NAME '(' [decl {',' decl}] ')' '->' '(' [decl {',' decl}] ')' 'opset' INT
//                '{' {stmt} '}'
//   decl      := VALUE ':' type                 graph inputs / outputs; outputs are defined in the body
//   stmt      := 'param' VALUE ':' type ['=' values]          elided values parse as zeros
//              | [decl {',' decl} '='] op '(' [input {',' input}] ')' ['{' [attr {',' attr}] '}'] [NODE]
//              | 'update' VALUE '<-' VALUE
//              | 'accumulate' VALUE '<-' VALUE   gradient accumulation (Graph::accumulations)
//   op        := SEG {'.' SEG}                  last segment is the op, the rest its domain: fc.Op
//   input     := VALUE | '_'                    '_' is an omitted optional input
//   type      := DTYPE '[' [dim {',' dim}] ']'  f32 f64 i64 i32 i8 u8 bool (undef: never inferred)
//   dim       := INT | IDENT | STRING | '?'     size, symbol (N) or unknown; f32[] is a scalar
//   attr      := (IDENT | STRING) '=' attrval   printed in sorted key order
//   attrval   := INT | FLOAT | STRING           3 | 3.0, 1e-05, inf, nan | "SAME_UPPER"
//              | '[' ... ']'                    [1, 2] ints, [1.0, 2.5] floats, ["a"] strings
//              | ('ints'|'floats'|'strings') '[' ... ']'   typed (needed for empty lists: ints[])
//              | 'tensor' '<' type '>' [values]           tensor<f32[2]> [1, 2]; elided: zeros
//   values    := '[' [v {',' v}] ']'           all elements, row-major; bool as true/false
//   VALUE     := '%' (BARE | STRING)   NODE := '@' (BARE | STRING)   NAME, SEG := IDENT | STRING
//   BARE      := [A-Za-z0-9_./-]+ {'::' [A-Za-z0-9_./-]+}     input.1, /conv/Conv_output_0, onnx::Conv_12
//   STRING    := '"' ... '"' with \" \\ \n \t \r \xHH escapes
// Floats print in the shortest form that reads back to the same float32 (attributes always show a
// '.' or exponent, so their kind survives). A node without '@name' is named "<op>_<index>" (its
// position in the graph), as Graph::add_node names unnamed nodes; the printer omits exactly those.
// Values must be defined before use (the printer requires a topologically sorted graph). The parser
// takes every type from the text: it neither looks ops up in the registry nor infers shapes (use
// ir::verify for that). Errors are fc::Error "FILE:LINE:COL: message".
#pragma once

#include <string>
#include <string_view>

#include "ir/graph.h"

namespace fc::ir {

struct PrintOptions {
  size_t max_inline_elements = 16;  // tensors (params, tensor attributes) up to this size print their values
};

std::string print_graph(const Graph& g, const PrintOptions& options = {});
// Throws fc::Error "<file>:<line>:<col>: message" on malformed text: syntax, a value used before
// its definition or defined twice, an unknown element type, a tensor with the wrong number of values,
// a tensor (elided values parse as zeros, so a short text can ask for much memory) larger than
// max_tensor_bytes.
constexpr size_t kDefaultMaxParsedTensorBytes = size_t{4} << 30;
Graph parse_graph(std::string_view text, const std::string& filename = "<text>",
                  size_t max_tensor_bytes = kDefaultMaxParsedTensorBytes);

}  // namespace fc::ir
