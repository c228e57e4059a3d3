// Lexer of the text IR and the quoting rules the printer shares with it.
#include "ir/text_lexer.h"

#include "support/error.h"

namespace fc::ir::text {

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_name_char(char c) { return is_ident_char(c) || c == '.' || c == '/' || c == '-'; }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// A printable rendering of a byte for error messages.
std::string show_char(char c) {
  if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) return std::string("'") + c + "'";
  static const char* hex = "0123456789abcdef";
  unsigned char u = static_cast<unsigned char>(c);
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}
}  // namespace

const char* tok_name(Tok t) {
  switch (t) {
    case Tok::End:
      return "end of input";
    case Tok::Ident:
      return "identifier";
    case Tok::Int:
      return "integer";
    case Tok::Float:
      return "float";
    case Tok::String:
      return "string";
    case Tok::ValueRef:
      return "value name (%name)";
    case Tok::NodeName:
      return "node name (@name)";
    case Tok::LParen:
      return "'('";
    case Tok::RParen:
      return "')'";
    case Tok::LBracket:
      return "'['";
    case Tok::RBracket:
      return "']'";
    case Tok::LBrace:
      return "'{'";
    case Tok::RBrace:
      return "'}'";
    case Tok::Less:
      return "'<'";
    case Tok::Greater:
      return "'>'";
    case Tok::Comma:
      return "','";
    case Tok::Colon:
      return "':'";
    case Tok::Equals:
      return "'='";
    case Tok::Question:
      return "'?'";
    case Tok::Dot:
      return "'.'";
    case Tok::Arrow:
      return "'->'";
    case Tok::LeftArrow:
      return "'<-'";
  }
  return "token";
}

bool is_bare_name(std::string_view s) {
  // Runs of name characters joined by "::" (ONNX's "onnx::Conv_12"); a lone ':' ends the name.
  size_t i = 0;
  for (;;) {
    size_t run = i;
    while (i < s.size() && is_name_char(s[i])) ++i;
    if (i == run) return false;
    if (i == s.size()) return true;
    if (s.substr(i, 2) != "::") return false;
    i += 2;
  }
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !is_ident_start(s[0])) return false;
  for (char c : s)
    if (!is_ident_char(c)) return false;
  return true;
}

std::string quote(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string r = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        r += "\\\"";
        break;
      case '\\':
        r += "\\\\";
        break;
      case '\n':
        r += "\\n";
        break;
      case '\t':
        r += "\\t";
        break;
      case '\r':
        r += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          r += "\\x";
          r += hex[u >> 4];
          r += hex[u & 15];
        } else {
          r += c;
        }
    }
  }
  r += '"';
  return r;
}

void Lexer::fail_at(int line, int col, const std::string& message) const {
  fail(filename_, ":", line, ":", col, ": ", message);
}

void Lexer::advance(size_t n) {
  for (size_t i = 0; i < n && pos_ < text_.size(); ++i, ++pos_) {
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
  }
}

void Lexer::skip_space_and_comments() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      advance();
    } else if (c == '#') {
      while (pos_ < text_.size() && text_[pos_] != '\n') advance();
    } else {
      break;
    }
  }
}

std::string Lexer::lex_quoted(int line, int col) {
  advance();  // opening quote
  std::string r;
  for (;;) {
    if (pos_ >= text_.size()) fail_at(line, col, "unterminated string");
    char c = text_[pos_];
    if (c == '"') {
      advance();
      return r;
    }
    if (c == '\n') fail_at(line, col, "unterminated string (newline inside quotes; write \\n)");
    if (c != '\\') {
      r += c;
      advance();
      continue;
    }
    int esc_line = line_, esc_col = col_;
    advance();
    char e = peek();
    switch (e) {
      case '"':
        r += '"';
        break;
      case '\\':
        r += '\\';
        break;
      case 'n':
        r += '\n';
        break;
      case 't':
        r += '\t';
        break;
      case 'r':
        r += '\r';
        break;
      case 'x': {
        int hi = hex_value(peek(1)), lo = hex_value(peek(2));
        if (hi < 0 || lo < 0) fail_at(esc_line, esc_col, "\\x must be followed by two hex digits");
        r += static_cast<char>(hi * 16 + lo);
        advance(2);
        break;
      }
      default:
        fail_at(
            esc_line, esc_col,
            pos_ >= text_.size() ? std::string("unterminated string") : "unknown escape '\\" + std::string(1, e) + "'");
    }
    advance();
  }
}

Token Lexer::lex_number(Token t) {
  size_t start = pos_;
  if (peek() == '-') advance();
  if (!is_digit(peek())) {
    // -inf / -nan
    for (const char* word : {"inf", "nan"}) {
      if (text_.substr(pos_, 3) == word && !is_ident_char(peek(3))) {
        advance(3);
        t.kind = Tok::Float;
        t.text = std::string(text_.substr(start, pos_ - start));
        return t;
      }
    }
    fail_at(t.line, t.col, "expected a digit after '-'");
  }
  bool is_float = false;
  while (is_digit(peek())) advance();
  if (peek() == '.') {
    is_float = true;
    advance();
    while (is_digit(peek())) advance();
  }
  if (peek() == 'e' || peek() == 'E') {
    size_t k = 1;
    if (peek(k) == '+' || peek(k) == '-') ++k;
    if (!is_digit(peek(k))) fail_at(line_, col_, "malformed exponent");
    is_float = true;
    advance(k);
    while (is_digit(peek())) advance();
  }
  if (is_ident_char(peek())) fail_at(line_, col_, "unexpected " + show_char(peek()) + " after number");
  t.kind = is_float ? Tok::Float : Tok::Int;
  t.text = std::string(text_.substr(start, pos_ - start));
  return t;
}

Token Lexer::next() {
  skip_space_and_comments();
  Token t;
  t.line = line_;
  t.col = col_;
  if (pos_ >= text_.size()) return t;
  char c = peek();
  auto single = [&](Tok k) {
    advance();
    t.kind = k;
    return t;
  };
  switch (c) {
    case '(':
      return single(Tok::LParen);
    case ')':
      return single(Tok::RParen);
    case '[':
      return single(Tok::LBracket);
    case ']':
      return single(Tok::RBracket);
    case '{':
      return single(Tok::LBrace);
    case '}':
      return single(Tok::RBrace);
    case '>':
      return single(Tok::Greater);
    case ',':
      return single(Tok::Comma);
    case ':':
      return single(Tok::Colon);
    case '=':
      return single(Tok::Equals);
    case '?':
      return single(Tok::Question);
    case '.':
      return single(Tok::Dot);
    case '<':
      if (peek(1) == '-') {
        advance();
        return single(Tok::LeftArrow);
      }
      return single(Tok::Less);
    case '"':
      t.kind = Tok::String;
      t.text = lex_quoted(t.line, t.col);
      return t;
    case '%':
    case '@': {
      t.kind = c == '%' ? Tok::ValueRef : Tok::NodeName;
      advance();
      if (peek() == '"') {
        t.text = lex_quoted(line_, col_);
      } else {
        size_t start = pos_;
        for (;;) {
          while (is_name_char(peek())) advance();
          if (pos_ == start || peek() != ':' || peek(1) != ':' || !is_name_char(peek(2))) break;
          advance(2);
        }
        t.text = std::string(text_.substr(start, pos_ - start));
        if (t.text.empty()) fail_at(t.line, t.col, std::string("expected a name after '") + c + "'");
      }
      return t;
    }
    case '-':
      if (peek(1) == '>') {
        advance();
        return single(Tok::Arrow);
      }
      return lex_number(t);
    default:
      break;
  }
  if (is_digit(c)) return lex_number(t);
  if (is_ident_start(c)) {
    size_t start = pos_;
    while (is_ident_char(peek())) advance();
    t.kind = Tok::Ident;
    t.text = std::string(text_.substr(start, pos_ - start));
    return t;
  }
  fail_at(t.line, t.col, "unexpected " + show_char(c));
}

}  // namespace fc::ir::text
