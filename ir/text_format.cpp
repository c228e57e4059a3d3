// Printer and parser of the text IR (grammar in ir/text_format.h). The printer is canonical — one
// spelling per graph — so print -> parse -> print is the identity on text. The parser is a flat,
// loop-driven recursive-descent parser with one token of lookahead (no recursion on input nesting,
// so no input can exhaust the stack); it builds the graph directly, taking types from the text.
#include "ir/text_format.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <new>
#include <utility>

#include "support/error.h"
#include "ir/text_lexer.h"

namespace fc::ir {

namespace {

using text::Tok;
using text::Token;


// Calls f(T{}) with the C++ element type of `t`.

// ---------------------------------------------------------------------------------------------
// Printer

// Shortest spelling that reads back to the same float/double; NaN payloads and signs are not kept.
template <typename F>
std::string format_float(F v) {
  if (std::isnan(v)) return "nan";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// A float attribute always shows a '.' or exponent so that it reads back as a float, not an int.
std::string format_float_attr(float v) {
  std::string s = format_float(v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string word(const std::string& s) { return text::is_identifier(s) ? s : text::quote(s); }
std::string ref(char sigil, const std::string& name) {
  return sigil + (text::is_bare_name(name) ? name : text::quote(name));
}

std::string format_type(const TensorType& t) {
  std::string s(dtype_name(t.dtype));
  s += '[';
  for (size_t i = 0; i < t.dims.size(); ++i) {
    if (i) s += ',';
    const Dim& d = t.dims[i];
    s += d.is_known() ? std::to_string(d.size) : d.symbol.empty() ? "?" : word(d.symbol);
  }
  return s + ']';
}

std::string format_values(const Tensor& t) {
  std::string s = "[";
  const size_t n = t.numel();
  visit_dtype(t.dtype(), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    // Bools are read as bytes: a byte other than 0/1 must not be read through a bool.
    const auto* p = static_cast<const std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>*>(t.raw());
    for (size_t i = 0; i < n; ++i) {
      if (i) s += ", ";
      if constexpr (std::is_same_v<T, bool>)
        s += p[i] ? "true" : "false";
      else if constexpr (std::is_floating_point_v<T>)
        s += format_float(p[i]);
      else if constexpr (is_narrow_float_v<T>)
        s += format_float(static_cast<float>(p[i]));  // exact: every f16/bf16 value is a float
      else if constexpr (std::is_unsigned_v<T>)
        s += std::to_string(static_cast<uint64_t>(p[i]));
      else
        s += std::to_string(static_cast<int64_t>(p[i]));
    }
  });
  return s + ']';
}

bool inline_values(const Tensor& t, const PrintOptions& o) { return t.defined() && t.numel() <= o.max_inline_elements; }

std::string format_attr(const Attribute& a, const PrintOptions& o) {
  auto list = [](const char* empty, const auto& v, auto&& fmt) {
    if (v.empty()) return std::string(empty);
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + fmt(v[i]);
    return s + ']';
  };
  switch (attr_kind(a)) {
    case AttrKind::Int:
      return std::to_string(std::get<int64_t>(a));
    case AttrKind::Float:
      return format_float_attr(std::get<float>(a));
    case AttrKind::String:
      return text::quote(std::get<std::string>(a));
    case AttrKind::Ints:
      return list("ints[]", std::get<std::vector<int64_t>>(a), [](int64_t v) { return std::to_string(v); });
    case AttrKind::Floats:
      return list("floats[]", std::get<std::vector<float>>(a), format_float_attr);
    case AttrKind::Strings:
      return list("strings[]", std::get<std::vector<std::string>>(a),
                  [](const std::string& v) { return text::quote(v); });
    case AttrKind::Tensor: {
      const Tensor& t = std::get<Tensor>(a);
      std::string s = "tensor<" + format_type(t.type()) + ">";
      return inline_values(t, o) ? s + " " + format_values(t) : s;
    }
  }
  return "?";
}

// Op as [domain.]op; segments that are not identifiers are quoted. Statement keywords are quoted
// so that a node without outputs cannot be mistaken for a statement.
std::string format_op(const Node& n) {
  std::string op = (n.domain.empty() && (n.op == "param" || n.op == "update" || n.op == "accumulate")) ? text::quote(n.op) : word(n.op);
  if (n.domain.empty()) return op;
  bool simple = true;
  size_t start = 0;
  for (;;) {
    size_t dot = n.domain.find('.', start);
    simple &= text::is_identifier(n.domain.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return (simple ? n.domain : text::quote(n.domain)) + "." + op;
}

std::string format_signature_values(const std::vector<Value*>& vs) {
  std::string s;
  for (size_t i = 0; i < vs.size(); ++i) {
    FC_ASSERT(vs[i]);
    s += (i ? ", " : "") + ref('%', vs[i]->name) + ": " + format_type(vs[i]->type);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
 public:
  Parser(std::string_view text, const std::string& filename, size_t max_tensor_bytes)
      : lex_(text, filename), max_tensor_bytes_(max_tensor_bytes) {
    tok_ = lex_.next();
  }
  Graph parse();

 private:
  struct Declared {
    std::string name;
    TensorType type;
    Token at;
  };

  [[noreturn]] void fail_at(const Token& t, const std::string& msg) const { lex_.fail_at(t.line, t.col, msg); }
  std::string describe(const Token& t) const {
    if (t.kind == Tok::Ident || t.kind == Tok::Int || t.kind == Tok::Float)
      return std::string(text::tok_name(t.kind)) + " '" + t.text + "'";
    if (t.kind == Tok::ValueRef) return "value " + ref('%', t.text);
    return text::tok_name(t.kind);
  }
  Token take() {
    Token t = std::move(tok_);
    tok_ = lex_.next();
    return t;
  }
  bool at(Tok k) const { return tok_.kind == k; }
  bool at_word(const char* w) const { return tok_.kind == Tok::Ident && tok_.text == w; }
  bool accept(Tok k) {
    if (!at(k)) return false;
    take();
    return true;
  }
  Token expect(Tok k, const char* context) {
    if (!at(k)) fail_at(tok_, std::string("expected ") + text::tok_name(k) + " " + context + ", got " + describe(tok_));
    return take();
  }
  void expect_word(const char* w) {
    if (!at_word(w)) fail_at(tok_, std::string("expected '") + w + "', got " + describe(tok_));
    take();
  }
  // A comma-separated list up to `close`; `item` parses one element.
  template <typename F>
  void list(Tok close, const char* context, F&& item) {
    if (accept(close)) return;
    for (;;) {
      item();
      if (accept(close)) return;
      if (!accept(Tok::Comma))
        fail_at(tok_,
                std::string("expected ',' or ") + text::tok_name(close) + " " + context + ", got " + describe(tok_));
    }
  }

  int64_t parse_int(const Token& t);
  TensorType parse_type();
  Value* use(const Token& t);
  Value* define(const Token& t, TensorType type);
  Tensor make_tensor(const Token& at, const TensorType& type);
  void parse_values_into(Tensor& t);
  Attribute parse_attr_value();
  void parse_param();
  void parse_node();
  std::pair<Value*, Value*> parse_binding(const std::string& keyword);

  text::Lexer lex_;
  size_t max_tensor_bytes_;  // tensors larger than this are refused (parse_graph)
  Token tok_;
  Graph g_;
};

int64_t Parser::parse_int(const Token& t) {
  int64_t v = 0;
  auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (r.ec != std::errc() || r.ptr != t.text.data() + t.text.size())
    fail_at(t, "integer '" + t.text + "' out of range");
  return v;
}

TensorType Parser::parse_type() {
  Token d = expect(Tok::Ident, "(element type)");
  TensorType type;
  try {
    type.dtype = dtype_from_name(d.text);
  } catch (const Error&) {
    fail_at(d, "unknown element type '" + d.text + "' (expected f32, f64, i64, i32, i8, u8, bool)");
  }
  expect(Tok::LBracket, "after the element type");
  list(Tok::RBracket, "between dimensions", [&] {
    if (at(Tok::Int)) {
      Token size = take();
      int64_t n = parse_int(size);
      if (n < 0) fail_at(size, "dimension " + size.text + " is negative (write ? for an unknown size)");
      type.dims.push_back(Dim::known(n));
    } else if (at(Tok::Ident) || at(Tok::String)) {
      type.dims.push_back(Dim::sym(take().text));
    } else if (accept(Tok::Question)) {
      type.dims.push_back(Dim::unknown());
    } else {
      fail_at(tok_, "expected a dimension (size, symbol or '?'), got " + describe(tok_));
    }
  });
  return type;
}

Value* Parser::use(const Token& t) {
  Value* v = g_.find_value(t.text);
  if (!v) fail_at(t, "use of undefined value " + ref('%', t.text));
  return v;
}

Value* Parser::define(const Token& t, TensorType type) {
  if (t.text.empty()) fail_at(t, "empty value name");
  if (g_.find_value(t.text)) fail_at(t, "value " + ref('%', t.text) + " is defined twice");
  return g_.add_value(t.text, std::move(type));
}

Tensor Parser::make_tensor(const Token& at, const TensorType& type) {
  if (type.dtype == DType::Undefined) fail_at(at, "a tensor needs an element type");
  size_t bytes = dtype_size(type.dtype);
  for (const Dim& d : type.dims) {
    if (!d.is_known()) fail_at(at, "a tensor's shape must be fully known, got " + format_type(type));
    if (d.size != 0 && bytes > max_tensor_bytes_ / static_cast<size_t>(d.size))
      bytes = max_tensor_bytes_ + 1;
    else
      bytes *= static_cast<size_t>(d.size);
  }
  // An elided or inline tensor past the limit is refused rather than allocated (garbage input must
  // fail cleanly, not exhaust memory).
  if (bytes > max_tensor_bytes_)
    fail_at(at, "tensor " + format_type(type) + " is larger than the parser's limit of " +
                    std::to_string(max_tensor_bytes_) + " bytes");
  try {
    return Tensor(type.dtype, type.sizes());
  } catch (const std::bad_alloc&) {
    fail_at(at, "out of memory allocating tensor " + format_type(type));
  }
}

// '[' v, v, ... ']' with exactly numel values of the tensor's element type.
void Parser::parse_values_into(Tensor& t) {
  Token open = expect(Tok::LBracket, "(tensor values)");
  const size_t n = t.numel();
  size_t count = 0;
  visit_dtype(t.dtype(), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    auto* p = static_cast<T*>(t.raw());
    list(Tok::RBracket, "between tensor values", [&] {
      Token v = take();
      if (count >= n) fail_at(v, "too many values for a tensor of " + std::to_string(n) + " elements");
      if constexpr (std::is_same_v<T, bool>) {
        if (v.kind != Tok::Ident || (v.text != "true" && v.text != "false"))
          fail_at(v, "expected true or false, got " + describe(v));
        p[count] = v.text == "true";
      } else if constexpr (std::is_floating_point_v<T> || is_narrow_float_v<T>) {
        // f16/bf16 values are written as the floats they are, and rounded from float here.
        using Wide = std::conditional_t<is_narrow_float_v<T>, float, T>;
        bool word = v.kind == Tok::Ident && (v.text == "inf" || v.text == "nan");
        if (v.kind != Tok::Int && v.kind != Tok::Float && !word) fail_at(v, "expected a number, got " + describe(v));
        Wide x{};
        auto r = std::from_chars(v.text.data(), v.text.data() + v.text.size(), x);
        if (r.ec != std::errc() || r.ptr != v.text.data() + v.text.size())
          fail_at(v, "number '" + v.text + "' is out of range for " + std::string(dtype_name(t.dtype())));
        p[count] = T(x);
      } else if constexpr (is_int4_v<T>) {
        if (v.kind != Tok::Int) fail_at(v, "expected an integer, got " + describe(v));
        int64_t x = parse_int(v);
        if (x < T::kMin || x > T::kMax)
          fail_at(v, "integer " + v.text + " is out of range for " + std::string(dtype_name(t.dtype())));
        p[count] = T(x);
      } else if constexpr (std::is_same_v<T, uint64_t>) {  // beyond int64's range
        uint64_t x = 0;
        auto r = std::from_chars(v.text.data(), v.text.data() + v.text.size(), x);
        if (v.kind != Tok::Int || r.ec != std::errc() || r.ptr != v.text.data() + v.text.size())
          fail_at(v, "expected an integer of u64's range, got " + describe(v));
        p[count] = x;
      } else {
        if (v.kind != Tok::Int) fail_at(v, "expected an integer, got " + describe(v));
        int64_t x = parse_int(v);
        if (!std::in_range<T>(x))
          fail_at(v, "integer " + v.text + " is out of range for " + std::string(dtype_name(t.dtype())));
        p[count] = static_cast<T>(x);
      }
      ++count;
    });
  });
  if (count != n) fail_at(open, "expected " + std::to_string(n) + " values, got " + std::to_string(count));
}

Attribute Parser::parse_attr_value() {
  Token t = take();
  auto is_number = [](const Token& x) {
    return x.kind == Tok::Int || x.kind == Tok::Float || (x.kind == Tok::Ident && (x.text == "inf" || x.text == "nan"));
  };
  auto to_float = [&](const Token& x) {
    float f = 0;
    auto r = std::from_chars(x.text.data(), x.text.data() + x.text.size(), f);
    if (r.ec != std::errc() || r.ptr != x.text.data() + x.text.size())
      fail_at(x, "float '" + x.text + "' out of range");
    return f;
  };
  if (t.kind == Tok::Int) return parse_int(t);
  if (is_number(t)) return to_float(t);
  if (t.kind == Tok::String) return std::move(t.text);
  if (t.kind == Tok::Ident && t.text == "tensor") {
    expect(Tok::Less, "after 'tensor'");
    if (at_word("undef")) {  // a default-constructed Tensor
      take();
      expect(Tok::LBracket, "after 'undef'");
      expect(Tok::RBracket, "(an undefined tensor has no shape)");
      expect(Tok::Greater, "after the tensor type");
      return Tensor();
    }
    TensorType type = parse_type();
    expect(Tok::Greater, "after the tensor type");
    Tensor tensor = make_tensor(t, type);
    if (at(Tok::LBracket)) parse_values_into(tensor);
    return tensor;
  }
  // Lists: [..] takes its kind from the elements; ints[..] / floats[..] / strings[..] name it.
  std::string kind;
  if (t.kind == Tok::Ident && (t.text == "ints" || t.text == "floats" || t.text == "strings")) {
    kind = t.text;
    expect(Tok::LBracket, ("after '" + kind + "'").c_str());
  } else if (t.kind != Tok::LBracket) {
    fail_at(t, "expected an attribute value, got " + describe(t));
  }
  std::vector<Token> items;
  list(Tok::RBracket, "between list elements", [&] { items.push_back(take()); });
  if (kind.empty()) {
    if (items.empty()) fail_at(t, "empty list: write ints[], floats[] or strings[]");
    kind = items[0].kind == Tok::String ? "strings" : "ints";
    for (const Token& x : items)
      if (x.kind == Tok::Float || x.kind == Tok::Ident) kind = kind == "ints" ? "floats" : kind;
  }
  if (kind == "strings") {
    std::vector<std::string> v;
    for (Token& x : items) {
      if (x.kind != Tok::String) fail_at(x, "expected a string in a list of strings, got " + describe(x));
      v.push_back(std::move(x.text));
    }
    return v;
  }
  for (const Token& x : items)
    if (!is_number(x)) fail_at(x, "expected a number in a list of " + kind + ", got " + describe(x));
  if (kind == "floats") {
    std::vector<float> v;
    for (const Token& x : items) v.push_back(to_float(x));
    return v;
  }
  std::vector<int64_t> v;
  for (const Token& x : items) {
    if (x.kind != Tok::Int) fail_at(x, "expected an integer in a list of ints, got " + describe(x));
    v.push_back(parse_int(x));
  }
  return v;
}

// param %name: type [= [values]]
void Parser::parse_param() {
  take();
  Token name = expect(Tok::ValueRef, "after 'param'");
  expect(Tok::Colon, "after the parameter name");
  Token type_at = tok_;
  TensorType type = parse_type();
  Tensor t = make_tensor(type_at, type);
  if (accept(Tok::Equals)) parse_values_into(t);
  if (name.text.empty()) fail_at(name, "empty value name");
  if (g_.find_value(name.text)) fail_at(name, "value " + ref('%', name.text) + " is defined twice");
  g_.add_param(name.text, std::move(t));
}

// [%out: type, ...  =] [domain.]Op(%in | _, ...) [{key = value, ...}] [@name]
void Parser::parse_node() {
  std::vector<Declared> outs;
  if (at(Tok::ValueRef)) {
    list(Tok::Equals, "between node outputs", [&] {
      Token name = expect(Tok::ValueRef, "(node output)");
      expect(Tok::Colon, "after the output name");
      outs.push_back({name.text, parse_type(), name});
    });
  }
  std::vector<std::string> segments;
  for (;;) {
    if (!at(Tok::Ident) && !at(Tok::String)) fail_at(tok_, "expected an op name, got " + describe(tok_));
    segments.push_back(take().text);
    if (!accept(Tok::Dot)) break;
  }
  std::string domain;
  for (size_t i = 0; i + 1 < segments.size(); ++i) domain += (i ? "." : "") + segments[i];
  expect(Tok::LParen, "after the op name");
  std::vector<Value*> inputs;
  list(Tok::RParen, "between node inputs", [&] {
    if (at_word("_")) {
      take();
      inputs.push_back(nullptr);
    } else {
      inputs.push_back(use(expect(Tok::ValueRef, "or '_' (node input)")));
    }
  });
  std::map<std::string, Attribute> attrs;
  if (accept(Tok::LBrace)) {
    list(Tok::RBrace, "between attributes", [&] {
      if (!at(Tok::Ident) && !at(Tok::String)) fail_at(tok_, "expected an attribute name, got " + describe(tok_));
      Token key = take();
      if (attrs.count(key.text)) fail_at(key, "attribute '" + key.text + "' given twice");
      expect(Tok::Equals, "after the attribute name");
      attrs.emplace(key.text, parse_attr_value());
    });
  }
  std::optional<std::string> name;
  if (at(Tok::NodeName)) name = take().text;
  std::vector<Value*> out_values;
  for (Declared& d : outs) {
    for (Value* v : out_values)
      if (v->name == d.name) fail_at(d.at, "value " + ref('%', d.name) + " is defined twice");
    out_values.push_back(define(d.at, std::move(d.type)));
  }
  Node* n = g_.add_node(segments.back(), std::move(inputs), std::move(out_values), std::move(attrs));
  n->domain = std::move(domain);
  if (name) n->name = std::move(*name);
}

// update %param <- %next   |   accumulate %accumulator <- %sum
std::pair<Value*, Value*> Parser::parse_binding(const std::string& keyword) {
  take();
  const std::string after_keyword = "after '" + keyword + "'";
  Value* param = use(expect(Tok::ValueRef, after_keyword.c_str()));
  expect(Tok::LeftArrow, keyword == "update" ? "after the updated value" : "after the accumulator");
  Value* v = use(expect(Tok::ValueRef, "after '<-'"));
  return {param, v};
}

Graph Parser::parse() {
  expect_word("graph");
  if (!at(Tok::Ident) && !at(Tok::String)) fail_at(tok_, "expected the graph name, got " + describe(tok_));
  g_.name = take().text;
  expect(Tok::LParen, "after the graph name");
  list(Tok::RParen, "between graph inputs", [&] {
    Token name = expect(Tok::ValueRef, "(graph input)");
    expect(Tok::Colon, "after the input name");
    g_.inputs.push_back(define(name, parse_type()));
  });
  expect(Tok::Arrow, "after the graph inputs");
  expect(Tok::LParen, "before the graph outputs");
  std::vector<Declared> outputs;
  list(Tok::RParen, "between graph outputs", [&] {
    Token name = expect(Tok::ValueRef, "(graph output)");
    expect(Tok::Colon, "after the output name");
    outputs.push_back({name.text, parse_type(), name});
  });
  expect_word("opset");
  Token opset = expect(Tok::Int, "after 'opset'");
  int64_t v = parse_int(opset);
  if (v < 1 || v > std::numeric_limits<int>::max()) fail_at(opset, "opset " + opset.text + " out of range");
  g_.opset = static_cast<int>(v);
  expect(Tok::LBrace, "to open the graph body");
  while (!accept(Tok::RBrace)) {
    if (at(Tok::End)) fail_at(tok_, "unexpected end of input: missing '}' at the end of the graph");
    if (at_word("param"))
      parse_param();
    else if (at_word("update"))
      g_.state_updates.push_back(parse_binding("update"));
    else if (at_word("accumulate"))
      g_.accumulations.push_back(parse_binding("accumulate"));
    else
      parse_node();
  }
  if (!at(Tok::End)) fail_at(tok_, "unexpected " + describe(tok_) + " after the end of the graph");
  for (const Declared& d : outputs) {
    Value* out = g_.find_value(d.name);
    if (!out) fail_at(d.at, "graph output " + ref('%', d.name) + " is never defined");
    if (!(out->type == d.type))
      fail_at(d.at, "graph output " + ref('%', d.name) + " is declared " + format_type(d.type) + " but defined " +
                        format_type(out->type));
    g_.outputs.push_back(out);
  }
  return std::move(g_);
}

}  // namespace

std::string print_graph(const Graph& g, const PrintOptions& options) {
  std::string s = "graph " + word(g.name) + "(" + format_signature_values(g.inputs) + ") -> (" +
                  format_signature_values(g.outputs) + ") opset " + std::to_string(g.opset) + " {\n";
  for (const Value* p : g.param_order()) {
    const Tensor& t = g.param(p);
    s += "  param " + ref('%', p->name) + ": " + format_type(p->type);
    if (inline_values(t, options)) s += " = " + format_values(t);
    s += '\n';
  }
  const auto& nodes = g.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = *nodes[i];
    s += "  ";
    if (!n.outputs.empty()) s += format_signature_values(n.outputs) + " = ";
    s += format_op(n) + "(";
    for (size_t k = 0; k < n.inputs.size(); ++k)
      s += (k ? ", " : "") + (n.inputs[k] ? ref('%', n.inputs[k]->name) : "_");
    s += ')';
    if (!n.attrs.empty()) {
      s += " {";
      bool first = true;
      for (const auto& [key, value] : n.attrs) {
        s += (first ? "" : ", ") + word(key) + " = " + format_attr(value, options);
        first = false;
      }
      s += '}';
    }
    // The parser names an unnamed node "<op>_<index>", as Graph::add_node does; such names are implied.
    if (n.name != n.op + "_" + std::to_string(i)) s += " " + ref('@', n.name);
    s += '\n';
  }
  for (const auto& [state, next] : g.state_updates)
    s += "  update " + ref('%', state->name) + " <- " + ref('%', next->name) + "\n";
  for (const auto& [acc, sum] : g.accumulations)
    s += "  accumulate " + ref('%', acc->name) + " <- " + ref('%', sum->name) + "\n";
  return s + "}\n";
}

Graph parse_graph(std::string_view text, const std::string& filename, size_t max_tensor_bytes) {
  return Parser(text, filename, max_tensor_bytes).parse();
}

}  // namespace fc::ir
