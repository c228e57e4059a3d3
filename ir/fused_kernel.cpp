// FusedKernel: builders, validation, canonical text + hash, loop-nest simplification and the plain
// C++ reference evaluator. See fused_kernel.h.
#include "ir/fused_kernel.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <cstdio>
#include <sstream>

#include "ir/content_hash.h"
#include "support/error.h"

namespace fc::ir {

namespace {

struct OpInfo {
  ScalarOp op;
  const char* name;
  int arity;
};
constexpr OpInfo kOps[] = {
    {ScalarOp::kLoad, "load", 0},       {ScalarOp::kConst, "const", 0},   {ScalarOp::kParam, "param", 0},
    {ScalarOp::kLoadI64, "load_i64", 0}, {ScalarOp::kColumn, "column", 0},
    {ScalarOp::kAdd, "add", 2},
    {ScalarOp::kSub, "sub", 2},         {ScalarOp::kMul, "mul", 2},       {ScalarOp::kDiv, "div", 2},
    {ScalarOp::kMax, "max", 2},         {ScalarOp::kMin, "min", 2},       {ScalarOp::kGreater, "greater", 2},
    {ScalarOp::kLess, "less", 2},       {ScalarOp::kEqual, "equal", 2},
    {ScalarOp::kNeg, "neg", 1},         {ScalarOp::kAbs, "abs", 1},       {ScalarOp::kRelu, "relu", 1},
    {ScalarOp::kExp, "exp", 1},         {ScalarOp::kLog, "log", 1},       {ScalarOp::kSqrt, "sqrt", 1},
    {ScalarOp::kRsqrt, "rsqrt", 1},     {ScalarOp::kTanh, "tanh", 1},     {ScalarOp::kSigmoid, "sigmoid", 1},
    {ScalarOp::kFloor, "floor", 1},     {ScalarOp::kCeil, "ceil", 1},     {ScalarOp::kErf, "erf", 1},
    {ScalarOp::kLeakyRelu, "leaky_relu", 1}, {ScalarOp::kSelect, "select", 3}, {ScalarOp::kFma, "fma", 3},
    {ScalarOp::kRowMax, "row_max", 1},  {ScalarOp::kRowSum, "row_sum", 1},
};

bool reads_input(ScalarOp op) { return op == ScalarOp::kLoad || op == ScalarOp::kLoadI64 || op == ScalarOp::kParam; }
bool is_reduction(ScalarOp op) { return op == ScalarOp::kRowMax || op == ScalarOp::kRowSum; }

const OpInfo& info(ScalarOp op) {
  for (const OpInfo& i : kOps)
    if (i.op == op) return i;
  fail("fused kernel: unknown scalar op ", static_cast<int>(op));
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::ostringstream t;  // (string concatenation here trips GCC 12's -Wrestrict false positive)
  t << "[";
  for (size_t i = 0; i < s.size(); ++i) t << (i ? "," : "") << s[i];
  t << "]";
  return t.str();
}

std::string float_text(float v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", std::bit_cast<uint32_t>(v));
  return buf;
}

}  // namespace

const char* op_name(ScalarOp op) { return info(op).name; }
int op_arity(ScalarOp op) { return info(op).arity; }

int FusedKernel::push(Instr in) {
  const int id = static_cast<int>(instrs_.size());
  for (int v : {in.a, in.b, in.c})
    FC_CHECK(v < id, "fused kernel: ", op_name(in.op), " refers to value %", v, " before it exists");
  instrs_.push_back(in);
  return id;
}

int FusedKernel::add_input(std::vector<int64_t> shape) {
  input_shapes_.push_back(std::move(shape));
  return static_cast<int>(input_shapes_.size()) - 1;
}

int FusedKernel::load(int input) {
  FC_CHECK(input >= 0 && input < num_inputs(), "fused kernel: load of input ", input, " of ", num_inputs());
  return push({.op = ScalarOp::kLoad, .input = input});
}
int FusedKernel::load_i64(int input) {
  FC_CHECK(input >= 0 && input < num_inputs(), "fused kernel: load_i64 of input ", input, " of ", num_inputs());
  return push({.op = ScalarOp::kLoadI64, .input = input});
}
int FusedKernel::column() { return push({.op = ScalarOp::kColumn}); }
int FusedKernel::param(int input, int64_t element) {
  FC_CHECK(input >= 0 && input < num_inputs(), "fused kernel: param of input ", input, " of ", num_inputs());
  return push({.op = ScalarOp::kParam, .input = input, .element = element});
}
int FusedKernel::constant(float v) { return push({.op = ScalarOp::kConst, .value = v}); }
int FusedKernel::unary(ScalarOp op, int a) {
  FC_CHECK(op_arity(op) == 1, "fused kernel: ", op_name(op), " is not unary");
  return push({.op = op, .a = a});
}
int FusedKernel::binary(ScalarOp op, int a, int b) {
  FC_CHECK(op_arity(op) == 2, "fused kernel: ", op_name(op), " is not binary");
  return push({.op = op, .a = a, .b = b});
}
int FusedKernel::leaky_relu(int a, float alpha) { return push({.op = ScalarOp::kLeakyRelu, .a = a, .value = alpha}); }
int FusedKernel::select(int cond, int t, int f) { return push({.op = ScalarOp::kSelect, .a = cond, .b = t, .c = f}); }
int FusedKernel::fma(int a, int b, int c) { return push({.op = ScalarOp::kFma, .a = a, .b = b, .c = c}); }

void FusedKernel::add_output(int v) {
  FC_CHECK(v >= 0 && v < static_cast<int>(instrs_.size()), "fused kernel: output of unknown value %", v);
  outputs_.push_back(v);
}

int64_t FusedKernel::numel() const {
  int64_t n = 1;
  for (int64_t d : out_shape_) n *= d;
  return n;
}

bool FusedKernel::is_loaded(int input) const {
  for (const Instr& in : instrs_)
    if ((in.op == ScalarOp::kLoad || in.op == ScalarOp::kLoadI64) && in.input == input) return true;
  return false;
}

bool FusedKernel::is_i64(int input) const {
  for (const Instr& in : instrs_)
    if (in.op == ScalarOp::kLoadI64 && in.input == input) return true;
  return false;
}

bool FusedKernel::is_row_kernel() const {
  for (const Instr& in : instrs_)
    if (is_reduction(in.op) || in.op == ScalarOp::kColumn) return true;
  return false;
}

int64_t FusedKernel::range_size() const {
  if (!is_row_kernel()) return numel();
  return out_shape_.empty() || out_shape_.back() == 0 ? 0 : numel() / out_shape_.back();
}

std::vector<bool> FusedKernel::row_level() const {
  std::vector<bool> row(instrs_.size(), false);
  if (!is_row_kernel()) return row;
  for (size_t k = 0; k < instrs_.size(); ++k) {
    const Instr& in = instrs_[k];
    switch (in.op) {
      case ScalarOp::kConst: case ScalarOp::kParam: case ScalarOp::kRowMax: case ScalarOp::kRowSum:
        row[k] = true;
        break;
      case ScalarOp::kColumn: break;
      case ScalarOp::kLoad: case ScalarOp::kLoadI64: {
        // Broadcast along the innermost dim: the same element for the whole row.
        const auto& s = input_shapes_.at(static_cast<size_t>(in.input));
        row[k] = s.empty() || s.back() == 1;
        break;
      }
      default:
        row[k] = true;
        for (int v : {in.a, in.b, in.c})
          if (v >= 0) row[k] = row[k] && row[static_cast<size_t>(v)];
    }
  }
  return row;
}

std::vector<int64_t> FusedKernel::output_shape(int o) const {
  std::vector<int64_t> s = out_shape_;
  if (is_row_kernel() && row_level()[static_cast<size_t>(outputs_.at(static_cast<size_t>(o)))]) s.back() = 1;
  return s;
}

int64_t FusedKernel::arithmetic_ops() const {
  int64_t n = 0;
  for (const Instr& in : instrs_) n += !reads_input(in.op) && in.op != ScalarOp::kConst && in.op != ScalarOp::kColumn;
  return n;
}

void FusedKernel::validate() const {
  for (int64_t d : out_shape_) FC_CHECK(d >= 0, "fused kernel: negative output dim in ", shape_text(out_shape_));
  for (size_t i = 0; i < input_shapes_.size(); ++i) {
    const auto& s = input_shapes_[i];
    if (!is_loaded(static_cast<int>(i))) continue;  // a table: any shape
    FC_CHECK(s.size() <= out_shape_.size(), "fused kernel: input ", i, " ", shape_text(s), " has more dims than the output ",
             shape_text(out_shape_));
    const size_t off = out_shape_.size() - s.size();
    for (size_t d = 0; d < s.size(); ++d)
      FC_CHECK(s[d] == 1 || s[d] == out_shape_[off + d], "fused kernel: input ", i, " ", shape_text(s),
               " does not broadcast to ", shape_text(out_shape_));
  }
  FC_CHECK(!outputs_.empty(), "fused kernel: kernel has no outputs");
  if (is_row_kernel() && shapes_known_)
    FC_CHECK(!out_shape_.empty(), "fused kernel: a row kernel (row_max, row_sum, column) needs an output of rank >= 1");
  for (int i = 0; i < num_inputs(); ++i) {
    bool f32 = false, i64 = false;
    for (const Instr& in : instrs_) {
      if (in.input != i) continue;
      f32 = f32 || in.op == ScalarOp::kLoad || in.op == ScalarOp::kParam;
      i64 = i64 || in.op == ScalarOp::kLoadI64;
    }
    FC_CHECK(!(f32 && i64), "fused kernel: input ", i, " is read both as int64 (load_i64) and as float");
  }
  for (size_t k = 0; k < instrs_.size(); ++k) {
    const Instr& in = instrs_[k];
    const int arity = op_arity(in.op);
    const int ops[3] = {in.a, in.b, in.c};
    for (int j = 0; j < 3; ++j) {
      if (j < arity) FC_CHECK(ops[j] >= 0 && ops[j] < static_cast<int>(k), "fused kernel: bad operand of %", k);
      else FC_CHECK(ops[j] == -1, "fused kernel: extra operand of %", k);
    }
    if (in.op == ScalarOp::kLoad || in.op == ScalarOp::kLoadI64)
      FC_CHECK(in.input >= 0 && in.input < num_inputs(), "fused kernel: bad load %", k);
    if (in.op == ScalarOp::kParam) {
      FC_CHECK(in.input >= 0 && in.input < num_inputs(), "fused kernel: bad param %", k);
      FC_CHECK(in.element >= 0, "fused kernel: bad param %", k);
      if (!shapes_known_) continue;
      int64_t n = 1;
      for (int64_t d : input_shapes_[static_cast<size_t>(in.input)]) n *= d;
      FC_CHECK(in.element >= 0 && in.element < n, "fused kernel: param %", k, " reads element ", in.element,
               " of input ", in.input, " ", shape_text(input_shapes_[static_cast<size_t>(in.input)]));
    }
  }
}

std::string FusedKernel::to_text() const {
  std::ostringstream os;
  os << "fused_kernel v1\nout " << shape_text(out_shape_) << "\n";
  for (size_t i = 0; i < input_shapes_.size(); ++i) os << "in " << i << " " << shape_text(input_shapes_[i]) << "\n";
  for (size_t k = 0; k < instrs_.size(); ++k) {
    const Instr& in = instrs_[k];
    os << "%" << k << " = " << op_name(in.op);
    if (in.op == ScalarOp::kLoad || in.op == ScalarOp::kLoadI64) os << " " << in.input;
    if (in.op == ScalarOp::kParam) os << " " << in.input << " " << in.element;
    if (in.op == ScalarOp::kConst || in.op == ScalarOp::kLeakyRelu) os << " " << float_text(in.value);
    for (int v : {in.a, in.b, in.c})
      if (v >= 0) os << " %" << v;
    os << "\n";
  }
  for (size_t o = 0; o < outputs_.size(); ++o) os << "out " << o << " %" << outputs_[o] << "\n";
  return os.str();
}

namespace {

std::optional<int64_t> parse_int(const std::string& t, int base = 10) {
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, base);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return v;
}

std::optional<std::vector<int64_t>> parse_shape(const std::string& t) {
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') return std::nullopt;
  std::vector<int64_t> dims;
  const std::string body = t.substr(1, t.size() - 2);
  if (body.empty()) return dims;
  std::istringstream is(body);
  std::string item;
  while (std::getline(is, item, ',')) {
    auto v = parse_int(item);
    if (!v || *v < 0) return std::nullopt;
    dims.push_back(*v);
  }
  return dims;
}

[[noreturn]] void parse_error(int lineno, const std::string& line, const char* why) {
  fail("fused kernel text, line ", lineno, " '", line, "': ", why);
}

// "%12" -> 12
std::optional<int64_t> parse_value(const std::string& t) {
  if (t.size() < 2 || t[0] != '%') return std::nullopt;
  return parse_int(t.substr(1));
}

}  // namespace

FusedKernel FusedKernel::from_text(const std::string& text) { return parse(text, true); }

FusedKernel FusedKernel::parse(const std::string& text, bool shapes_known) {
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  auto bad = [&](const char* why) { parse_error(lineno, line, why); };
  FusedKernel k;
  bool have_out_shape = false;
  while (std::getline(in, line)) {
    ++lineno;
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (lineno == 1) {
      if (tok != std::vector<std::string>{"fused_kernel", "v1"}) bad("expected 'fused_kernel v1'");
      continue;
    }
    if (tok.empty()) continue;
    if (tok[0] == "out" && tok.size() == 2) {
      auto shape = parse_shape(tok[1]);
      if (!shape || have_out_shape || !k.input_shapes_.empty() || !k.instrs_.empty()) bad("bad output shape");
      k.out_shape_ = *shape;
      have_out_shape = true;
    } else if (tok[0] == "in" && tok.size() == 3) {
      auto idx = parse_int(tok[1]);
      auto shape = parse_shape(tok[2]);
      if (!have_out_shape || !idx || *idx != k.num_inputs() || !shape) bad("bad input");
      k.add_input(*shape);
    } else if (tok[0] == "out" && tok.size() == 3) {
      auto idx = parse_int(tok[1]);
      auto v = parse_value(tok[2]);
      if (!idx || *idx != k.num_outputs() || !v || *v >= static_cast<int64_t>(k.instrs_.size())) bad("bad output");
      k.add_output(static_cast<int>(*v));
    } else if (tok[0][0] == '%' && tok.size() >= 3 && tok[1] == "=") {
      auto id = parse_value(tok[0]);
      if (!id || *id != static_cast<int64_t>(k.instrs_.size()) || !k.outputs_.empty()) bad("bad value number");
      const OpInfo* op = nullptr;
      for (const OpInfo& i : kOps)
        if (tok[2] == i.name) op = &i;
      if (!op) bad("unknown op");
      Instr ins{.op = op->op};
      size_t t = 3;
      if (op->op == ScalarOp::kLoad || op->op == ScalarOp::kLoadI64) {
        auto idx = t < tok.size() ? parse_int(tok[t++]) : std::nullopt;
        if (!idx || *idx < 0 || *idx >= k.num_inputs()) bad("bad input index");
        ins.input = static_cast<int>(*idx);
      }
      if (op->op == ScalarOp::kParam) {
        if (t + 2 > tok.size()) bad("bad param (input, element)");
        const int64_t idx = parse_int(tok[t]).value_or(-1), elem = parse_int(tok[t + 1]).value_or(-1);
        t += 2;
        if (idx < 0 || idx >= k.num_inputs() || elem < 0) bad("bad param (input, element)");
        ins.input = static_cast<int>(idx);
        ins.element = elem;
      }
      if (op->op == ScalarOp::kConst || op->op == ScalarOp::kLeakyRelu) {
        const std::string& h = t < tok.size() ? tok[t++] : line;
        auto bits = h.size() == 10 && h.compare(0, 2, "0x") == 0 ? parse_int(h.substr(2), 16) : std::nullopt;
        if (!bits) bad("bad float bits (0x followed by 8 hex digits)");
        ins.value = std::bit_cast<float>(static_cast<uint32_t>(*bits));
      }
      int* operands[3] = {&ins.a, &ins.b, &ins.c};
      for (int j = 0; j < op->arity; ++j) {
        auto v = t < tok.size() ? parse_value(tok[t++]) : std::nullopt;
        if (!v || *v < 0 || *v >= *id) bad("bad operand");
        *operands[j] = static_cast<int>(*v);
      }
      if (t != tok.size()) bad("extra tokens");
      k.push(ins);
    } else {
      bad("unrecognised line");
    }
  }
  if (lineno == 0) fail("fused kernel text is empty");
  k.shapes_known_ = shapes_known;
  k.validate();
  return k;
}

std::string FusedKernel::body_text() const {
  const std::string text = to_text();
  std::istringstream in(text);
  std::string line, body;
  while (std::getline(in, line))
    if (!line.empty() && (line[0] == '%' || (line.compare(0, 4, "out ") == 0 && line.find('%') != std::string::npos)))
      body += (body.empty() ? "" : "; ") + line;
  return body;
}

namespace {

std::string text_of_body(const std::string& body, const std::vector<int64_t>& out_shape,
                         const std::vector<std::vector<int64_t>>& input_shapes) {
  std::string text = "fused_kernel v1\nout " + shape_text(out_shape) + "\n";
  for (size_t i = 0; i < input_shapes.size(); ++i)
    text += "in " + std::to_string(i) + " " + shape_text(input_shapes[i]) + "\n";
  for (size_t at = 0; at < body.size();) {
    size_t end = body.find(';', at);
    if (end == std::string::npos) end = body.size();
    text += body.substr(at, end - at) + "\n";
    at = end + 1;
  }
  return text;
}

}  // namespace

FusedKernel FusedKernel::from_body(const std::string& body, const std::vector<int64_t>& out_shape,
                                   const std::vector<std::vector<int64_t>>& input_shapes) {
  return from_text(text_of_body(body, out_shape, input_shapes));
}

FusedKernel FusedKernel::program_of(const std::string& body, int num_inputs) {
  return parse(text_of_body(body, {}, std::vector<std::vector<int64_t>>(static_cast<size_t>(num_inputs))), false);
}

std::string FusedKernel::hash() const { return ir::hex64(ir::fnv1a64(to_text())); }

LoopNest make_loop_nest(const FusedKernel& k) {
  k.validate();
  const size_t rank = k.out_shape().size();
  const size_t n_in = k.input_shapes().size();
  // Full-rank strides of every input (0 along broadcast dims).
  std::vector<std::vector<int64_t>> full(n_in, std::vector<int64_t>(rank, 0));
  for (size_t i = 0; i < n_in; ++i) {
    if (!k.is_loaded(static_cast<int>(i))) continue;  // a table: stride 0 everywhere
    const auto& s = k.input_shapes()[i];
    const size_t off = rank - s.size();
    int64_t stride = 1;
    for (size_t d = s.size(); d-- > 0;) {
      full[i][off + d] = s[d] == 1 ? 0 : stride;
      stride *= s[d];
    }
  }
  LoopNest nest;
  nest.strides.assign(n_in, {});
  // A row kernel's innermost dim is its row: kept as the nest's last dim whatever its size.
  const bool row = k.is_row_kernel();
  for (size_t d = 0; d < rank; ++d) {
    const int64_t size = k.out_shape()[d];
    const bool keep = row && d + 1 == rank;
    if (size == 1 && !keep) continue;  // contributes nothing to any offset
    // Merge into the previous (outer) dim when every input's stride there equals stride * size here:
    // then (outer, this) walks the input like one dim of size outer*size.
    bool merge = !nest.dims.empty() && !keep;
    for (size_t i = 0; i < n_in && merge; ++i) merge = nest.strides[i].back() == full[i][d] * size;
    if (merge) {
      nest.dims.back() *= size;
      for (size_t i = 0; i < n_in; ++i) nest.strides[i].back() = full[i][d];
    } else {
      nest.dims.push_back(size);
      for (size_t i = 0; i < n_in; ++i) nest.strides[i].push_back(full[i][d]);
    }
  }
  return nest;
}

namespace {

float eval_op(const Instr& in, const float* v) {
  const float a = in.a >= 0 ? v[in.a] : 0.0f, b = in.b >= 0 ? v[in.b] : 0.0f, c = in.c >= 0 ? v[in.c] : 0.0f;
  switch (in.op) {
    case ScalarOp::kLoad: case ScalarOp::kLoadI64: case ScalarOp::kParam: case ScalarOp::kColumn:
    case ScalarOp::kRowMax: case ScalarOp::kRowSum:
      break;  // handled by the caller
    case ScalarOp::kConst: return in.value;
    case ScalarOp::kAdd: return a + b;
    case ScalarOp::kSub: return a - b;
    case ScalarOp::kMul: return a * b;
    case ScalarOp::kDiv: return a / b;
    case ScalarOp::kMax: return (a > b || a != a) ? a : b;
    case ScalarOp::kMin: return (a < b || a != a) ? a : b;
    case ScalarOp::kGreater: return a > b ? 1.0f : 0.0f;
    case ScalarOp::kLess: return a < b ? 1.0f : 0.0f;
    case ScalarOp::kEqual: return a == b ? 1.0f : 0.0f;
    case ScalarOp::kNeg: return -a;
    case ScalarOp::kAbs: return std::fabs(a);
    case ScalarOp::kRelu: return a < 0.0f ? 0.0f : a;
    case ScalarOp::kExp: return std::exp(a);
    case ScalarOp::kLog: return std::log(a);
    case ScalarOp::kSqrt: return std::sqrt(a);
    case ScalarOp::kRsqrt: return 1.0f / std::sqrt(a);
    case ScalarOp::kTanh: return std::tanh(a);
    case ScalarOp::kSigmoid: return 1.0f / (1.0f + std::exp(-a));
    case ScalarOp::kFloor: return std::floor(a);
    case ScalarOp::kCeil: return std::ceil(a);
    case ScalarOp::kErf: return std::erf(a);
    case ScalarOp::kLeakyRelu: return a >= 0.0f ? a : in.value * a;
    case ScalarOp::kSelect: return a != 0.0f ? b : c;
    case ScalarOp::kFma: return std::fma(a, b, c);
  }
  return 0.0f;
}

float load_input(const Instr& in, const float* const* inputs, int64_t offset) {
  if (in.op == ScalarOp::kLoadI64)
    return static_cast<float>(reinterpret_cast<const int64_t*>(inputs[in.input])[offset]);
  return inputs[in.input][offset];
}

// Row kernels: per row, the row-level values known so far, then one pass over the row per reduction
// (evaluating the element-level values before it), then a last pass storing element outputs.
void evaluate_rows(const FusedKernel& k, const LoopNest& nest, const float* const* inputs, float* const* outputs,
                   int64_t begin, int64_t end) {
  const auto& instrs = k.instrs();
  const std::vector<bool> row_level = k.row_level();
  const size_t rank = nest.dims.size(), n_in = k.input_shapes().size();
  const int64_t width = nest.dims.back();
  std::vector<float> v(instrs.size());
  std::vector<int64_t> base(n_in), off(n_in);
  for (int64_t r = begin; r < end; ++r) {
    std::fill(base.begin(), base.end(), 0);
    int64_t rest = r;
    for (size_t d = rank - 1; d-- > 0;) {
      const int64_t coord = rest % nest.dims[d];
      rest /= nest.dims[d];
      for (size_t i = 0; i < n_in; ++i) base[i] += coord * nest.strides[i][d];
    }
    auto eval = [&](size_t j, int64_t col) {
      const Instr& in = instrs[j];
      if (in.op == ScalarOp::kLoad || in.op == ScalarOp::kLoadI64) {
        for (size_t i = 0; i < n_in; ++i) off[i] = base[i] + col * nest.strides[i][rank - 1];
        v[j] = load_input(in, inputs, off[static_cast<size_t>(in.input)]);
      } else if (in.op == ScalarOp::kParam) {
        v[j] = inputs[in.input][in.element];
      } else if (in.op == ScalarOp::kColumn) {
        v[j] = static_cast<float>(col);
      } else {
        v[j] = eval_op(in, v.data());
      }
    };
    // Row-level values before `upto` (all operands are known by then), at column 0.
    auto row_values = [&](size_t from, size_t upto) {
      for (size_t j = from; j < upto; ++j)
        if (row_level[j] && !is_reduction(instrs[j].op)) eval(j, 0);
    };
    size_t done = 0;  // row-level values before `done` are in v
    for (size_t red = 0; red < instrs.size(); ++red) {
      if (!is_reduction(instrs[red].op)) continue;
      row_values(done, red);
      done = red;
      const bool is_max = instrs[red].op == ScalarOp::kRowMax;
      auto op = [&](double a, double x) { return is_max ? ((a > x || a != a) ? a : x) : a + x; };
      double acc[kRowLanes];
      std::fill(acc, acc + kRowLanes, is_max ? -std::numeric_limits<double>::infinity() : 0.0);
      for (int64_t c = 0; c < width; ++c) {
        for (size_t j = 0; j < static_cast<size_t>(instrs[red].a) + 1; ++j)
          if (!row_level[j]) eval(j, c);
        acc[c % kRowLanes] = op(acc[c % kRowLanes], v[static_cast<size_t>(instrs[red].a)]);
      }
      for (int step = 1; step < kRowLanes; step *= 2)
        for (int l = 0; l + step < kRowLanes; l += 2 * step) acc[l] = op(acc[l], acc[l + step]);
      v[red] = static_cast<float>(acc[0]);
    }
    row_values(done, instrs.size());
    for (size_t o = 0; o < k.outputs().size(); ++o) {
      const size_t out = static_cast<size_t>(k.outputs()[o]);
      if (row_level[out]) outputs[o][r] = v[out];
    }
    for (int64_t c = 0; c < width; ++c) {
      for (size_t j = 0; j < instrs.size(); ++j)
        if (!row_level[j]) eval(j, c);
      for (size_t o = 0; o < k.outputs().size(); ++o) {
        const size_t out = static_cast<size_t>(k.outputs()[o]);
        if (!row_level[out]) outputs[o][r * width + c] = v[out];
      }
    }
  }
}

}  // namespace

void evaluate_reference(const FusedKernel& k, const float* const* inputs, float* const* outputs, int64_t begin,
                        int64_t end) {
  const LoopNest nest = make_loop_nest(k);
  if (k.is_row_kernel()) return evaluate_rows(k, nest, inputs, outputs, begin, end);
  const auto& instrs = k.instrs();
  std::vector<float> v(instrs.size());
  const size_t rank = nest.dims.size();
  for (int64_t idx = begin; idx < end; ++idx) {
    // Input offsets from the multi-index of idx (innermost dim first).
    std::vector<int64_t> off(k.input_shapes().size(), 0);
    int64_t rest = idx;
    for (size_t d = rank; d-- > 0;) {
      const int64_t coord = rest % nest.dims[d];
      rest /= nest.dims[d];
      for (size_t i = 0; i < off.size(); ++i) off[i] += coord * nest.strides[i][d];
    }
    for (size_t j = 0; j < instrs.size(); ++j) {
      const Instr& in = instrs[j];
      v[j] = in.op == ScalarOp::kLoad || in.op == ScalarOp::kLoadI64 ? load_input(in, inputs, off[in.input])
             : in.op == ScalarOp::kParam                            ? inputs[in.input][in.element]
                                                                    : eval_op(in, v.data());
    }
    for (size_t o = 0; o < k.outputs().size(); ++o) outputs[o][idx] = v[k.outputs()[o]];
  }
}

}  // namespace fc::ir
