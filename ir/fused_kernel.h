// FusedKernel: the description of one fused elementwise kernel, independent of LLVM.
//
// A kernel has N f32 input tensors (int64 where read by load_i64), each with a shape that broadcasts
// (numpy rules) to the one output shape, and M >= 1 f32 outputs of exactly the output shape (a row
// kernel's row-level outputs excepted, below). Its body is a straight-line SSA
// program of scalar ops evaluated once per output element: value k is the result of instruction k;
// `load` reads the (broadcast) element of an input, every other op reads earlier values. Outputs name
// the values they store.
//
//   x: [N, C, H, W], gamma/beta: [1, C, 1, 1]      (BN-apply + ReLU)
//   %0 = load 0   %1 = load 1   %2 = load 2   %3 = mul %0 %1   %4 = add %3 %2   %5 = relu %4
//   out 0 = %5
//
// Scalar semantics follow the project's CPU kernels (runtime/cpu/kernels/) so that a fused chain
// gives what the unfused ops give:
//   max(a, b) = (a > b || a != a) ? a : b, min likewise (NaN propagates, as binary_math.cpp);
//   relu(x) = x < 0 ? 0 : x (std::max(x, 0.0f), as relu.cpp); leaky_relu(x) = x >= 0 ? x : alpha*x;
//   greater(a, b) = a > b ? 1 : 0, less likewise; select(c, a, b) = c != 0 ? a : b, so the ReLU gradient mask
//   y > 0 ? dy : 0 is select(greater(y, 0), dy, 0);
//   fma(a, b, c) = a*b + c rounded once; rsqrt(x) = 1 / sqrt(x) (two correctly rounded steps);
//   sigmoid(x) = 1 / (1 + exp(-x)) in float; exp/log/tanh/sqrt as the C library's expf/logf/...
// Everything else is one IEEE float operation, never reassociated or contracted, so add/sub/mul/div
// chains are bitwise equal to the same expression written in C++ (with -ffp-contract=off).
//
// Hyperparameters (learning rate, momentum) should be inputs rather than constants, so a learning-rate
// schedule never recompiles (STYLE.md); `constant` is for true constants (0, 1, alpha). Either an input
// of shape [] (loaded, broadcast), or one element of a table input: `param I E` reads element E of
// input I, the same value for every output element. An input read only by `param` is a table: it
// may have any shape (it is not broadcast, and takes no part in the loop nest), and a kernel never
// writes it (the optimizer updates read the step's hyper-parameter vector this way).
//
// Shapes are part of the kernel: the emitted code has the strides baked in (cheap index arithmetic,
// a loop the vectoriser understands). A training plan has fixed shapes, so this costs one compile
// per distinct shape.
//
// Row kernels. `row_max v` and `row_sum v` reduce a value over the innermost output dim (a *row*);
// `column` is the innermost coordinate as a float. A kernel using any of them is a row kernel
// (softmax, cross-entropy and its gradient): its range functions run over rows (numel / the last
// dim), not elements, and every value has a level (row_level()): row-level when it does not vary
// along the row (constants, params, reductions, loads of inputs broadcast along the innermost dim,
// and ops on those alone), element-level otherwise. An output of a row-level value holds one element
// per row (out_shape with its last dim 1); other outputs have out_shape. A reduction accumulates in
// double and rounds to float once, at the end. It keeps kRowLanes (32) partial results: lane l starts
// at -inf (row_max) or 0 (row_sum) and takes columns l, l + 32, l + 64, ... in order, with max as
// above or +; then the lanes combine as a balanced tree in order: lane l with lane l + 1 for even l,
// then l with l + 2 for l a multiple of 4, ..., then lane 0 with lane 16. This order is part of the
// meaning: the JIT (whose lanes vectorise, as independent chains), PTX and the evaluator follow it
// exactly, so a result depends on neither the machine's vector width nor the split into threads.
// (In double a sum of floats is exact up to 2^29 terms of one binade, so the order rarely shows;
// float lanes cost ResNet-18's AdamW parity test a 6x larger weight error after 3 steps.)
//
// Integer inputs: `load_i64 I` reads input I as int64 (class labels) converted to the nearest float
// (exact below 2^24). An input is read either by load or by load_i64, never both.
//
// The canonical text form (to_text) is what the kernel cache hashes: two kernels with the same text
// compute the same thing. Floats are written as their bit patterns, so the text is exact.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fc::ir {

// Partial results per row reduction (see above): enough independent chains to hide the latency of
// the accumulate (measured with float lanes: softmax cross-entropy on [64, 1000] took 133 us per step
// with 8 lanes, 83 us with 32).
inline constexpr int kRowLanes = 32;

enum class ScalarOp {
  kLoad,      // input element; `input` is the input index
  kLoadI64,   // int64 input element as float; `input` is the input index
  kConst,     // `value`
  kColumn,    // the innermost output coordinate as float (row kernels)
  kParam,     // element `element` of table input `input` (the same for every output element)
  kAdd, kSub, kMul, kDiv, kMax, kMin,  // binary: a, b
  kGreater,   // a > b ? 1 : 0
  kLess,      // a < b ? 1 : 0
  kEqual,     // a == b ? 1 : 0
  kNeg, kAbs, kRelu, kExp, kLog, kSqrt, kRsqrt, kTanh, kSigmoid, kFloor, kCeil, kErf,  // unary: a
  kLeakyRelu,  // a, alpha in `value`
  kSelect,    // a != 0 ? b : c
  kFma,       // a * b + c, one rounding
  kRowMax, kRowSum,  // reduction of a over the row (row kernels)
};

// Name in the text form ("add", "leaky_relu", ...) and operand count.
const char* op_name(ScalarOp op);
int op_arity(ScalarOp op);

struct Instr {
  ScalarOp op = ScalarOp::kConst;
  int a = -1, b = -1, c = -1;  // operand value ids (earlier instructions)
  int input = -1;              // kLoad, kLoadI64, kParam
  int64_t element = -1;        // kParam only: flat element index into the input
  float value = 0.0f;          // kConst: the constant; kLeakyRelu: alpha
};

class FusedKernel {
 public:
  explicit FusedKernel(std::vector<int64_t> out_shape = {}) : out_shape_(std::move(out_shape)) {}

  // Builders; each returns the new value's id. Shapes are checked by validate(). Mind C++'s
  // unspecified argument order: k.add(k.load(0), k.load(1)) may number the loads either way (same
  // meaning, different text and hash), so sequence builder calls that should be reproducible.
  int add_input(std::vector<int64_t> shape);  // returns the input index (not a value id)
  int load(int input);
  int load_i64(int input);
  int column();
  int param(int input, int64_t element);  // input `input` becomes (or stays) a table
  int constant(float v);
  int unary(ScalarOp op, int a);
  int binary(ScalarOp op, int a, int b);
  int add(int a, int b) { return binary(ScalarOp::kAdd, a, b); }
  int sub(int a, int b) { return binary(ScalarOp::kSub, a, b); }
  int mul(int a, int b) { return binary(ScalarOp::kMul, a, b); }
  int div(int a, int b) { return binary(ScalarOp::kDiv, a, b); }
  int max(int a, int b) { return binary(ScalarOp::kMax, a, b); }
  int min(int a, int b) { return binary(ScalarOp::kMin, a, b); }
  int greater(int a, int b) { return binary(ScalarOp::kGreater, a, b); }
  int less(int a, int b) { return binary(ScalarOp::kLess, a, b); }
  int equal(int a, int b) { return binary(ScalarOp::kEqual, a, b); }
  int row_max(int a) { return unary(ScalarOp::kRowMax, a); }
  int row_sum(int a) { return unary(ScalarOp::kRowSum, a); }
  int relu(int a) { return unary(ScalarOp::kRelu, a); }
  int leaky_relu(int a, float alpha);
  int select(int cond, int if_true, int if_false);
  int fma(int a, int b, int c);
  // Marks value `v` as the next output.
  void add_output(int v);

  const std::vector<int64_t>& out_shape() const { return out_shape_; }
  const std::vector<std::vector<int64_t>>& input_shapes() const { return input_shapes_; }
  const std::vector<Instr>& instrs() const { return instrs_; }
  const std::vector<int>& outputs() const { return outputs_; }
  int num_inputs() const { return static_cast<int>(input_shapes_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  int64_t numel() const;
  // Whether input i is read by `load` or `load_i64` (then it broadcasts to the output); false for a table.
  bool is_loaded(int input) const;
  // Whether input i is read by `load_i64` (its elements are int64).
  bool is_i64(int input) const;
  // Whether the program reduces over rows or reads `column` (see above).
  bool is_row_kernel() const;
  // What a range function's [begin, end) counts: rows for a row kernel, elements otherwise.
  int64_t range_size() const;
  // Per value: true when it is row-level (row kernels; all false otherwise). Needs shapes.
  std::vector<bool> row_level() const;
  // The shape output o is stored in: out_shape, or for a row-level output of a row kernel
  // out_shape with its last dim 1.
  std::vector<int64_t> output_shape(int o) const;
  // Arithmetic instructions per output element (all but load, param and const): the cost model's flops.
  int64_t arithmetic_ops() const;

  // Throws fc::Error unless the kernel is well formed: loaded inputs' shapes broadcast to
  // out_shape, `param` elements lie inside their table, operands refer to earlier values, at least
  // one output.
  void validate() const;

  // Canonical text, e.g.
  //   fused_kernel v1
  //   out [8,3,4,4]
  //   in 0 [1,3,1,1]
  //   %0 = load 0
  //   %1 = const 0x3f800000
  //   %2 = add %0 %1
  //   out 0 %2
  // (a table element reads "%3 = param 1 7": input 1, element 7).
  std::string to_text() const;
  // Parses to_text()'s form (how a plan file stores a fused kernel); from_text(k.to_text()) == k.
  // Throws fc::Error naming the line on malformed text.
  static FusedKernel from_text(const std::string& text);
  // The program alone (instructions and outputs, "; "-separated on one line, no shapes): what an
  // fc.Fused node stores, since a graph's shapes may be symbolic until the batch is known.
  //   "%0 = load 0; %1 = load 1; %2 = add %0 %1; %3 = relu %2; out 0 %3"
  std::string body_text() const;
  // The kernel of a body_text() at concrete shapes; throws fc::Error as from_text does.
  static FusedKernel from_body(const std::string& body, const std::vector<int64_t>& out_shape,
                               const std::vector<std::vector<int64_t>>& input_shapes);
  // The program of a body_text() with `num_inputs` inputs and no shapes yet (every shape []; table
  // elements are not checked against their table): an IR node's structure, before the batch is known.
  static FusedKernel program_of(const std::string& body, int num_inputs);
  bool operator==(const FusedKernel& o) const { return to_text() == o.to_text(); }
  // FNV-1a 64 of to_text(), as 16 hex digits.
  std::string hash() const;

 private:
  int push(Instr in);
  static FusedKernel parse(const std::string& text, bool shapes_known);

  std::vector<int64_t> out_shape_;
  std::vector<std::vector<int64_t>> input_shapes_;
  std::vector<Instr> instrs_;
  std::vector<int> outputs_;
  bool shapes_known_ = true;  // false for program_of's kernels
};

// The iteration space after simplification: dims of size 1 dropped and adjacent dims merged where
// every input either runs through both contiguously or is broadcast along both. `dims` is outer to
// inner (empty for a scalar output; a row kernel keeps its innermost dim, never merged or dropped);
// strides[i][d] is input i's element stride along dim d (0 where it is broadcast, and everywhere
// for a table). Outputs are always contiguous with the row-major strides of `dims`.
//   [N, C, H, W] with bias [1, C, 1, 1]  ->  dims [N, C, H*W], bias strides [0, 1, 0]
struct LoopNest {
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> strides;
  int64_t inner() const { return dims.empty() ? 1 : dims.back(); }
};
LoopNest make_loop_nest(const FusedKernel& k);

// Evaluates the kernel with plain C++ loops over [begin, end) of the flat output index (of rows, for
// a row kernel): the oracle the JIT is tested against, and a fallback where no JIT is available.
// Pointers of load_i64 inputs point at int64 data.
void evaluate_reference(const FusedKernel& k, const float* const* inputs, float* const* outputs,
                        int64_t begin, int64_t end);

}  // namespace fc::ir
