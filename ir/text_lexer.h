// Tokens of the text IR (see ir/text_format.h for the grammar), and the spelling rules for names
// and strings that the printer and the lexer share, so that whatever the printer writes bare the
// lexer reads back as one token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fc::ir::text {

enum class Tok {
  End,
  Ident,     // [A-Za-z_][A-Za-z0-9_]*  (keywords are identifiers; the parser gives them meaning)
  Int,       // -?[0-9]+
  Float,     // -?[0-9]+ ('.' [0-9]*)? ([eE][+-]?[0-9]+)?  with a '.' or exponent, or -?inf, -?nan
  String,    // "..." with escapes; text holds the decoded bytes
  ValueRef,  // %name or %"name"; text holds the name
  NodeName,  // @name or @"name"; text holds the name
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Less,
  Greater,
  Comma,
  Colon,
  Equals,
  Question,
  Dot,
  Arrow,      // ->
  LeftArrow,  // <-
};

const char* tok_name(Tok t);  // "'('", "identifier", ... for "expected X" messages

struct Token {
  Tok kind = Tok::End;
  std::string text;  // identifier / number spelling / decoded string or name
  int line = 1, col = 1;
};

// Splits the text into tokens on demand. Skips whitespace and '#' comments. Throws fc::Error
// "FILE:LINE:COL: message" on a malformed token.
class Lexer {
 public:
  Lexer(std::string_view text, const std::string& filename) : text_(text), filename_(filename) {}
  Token next();
  [[noreturn]] void fail_at(int line, int col, const std::string& message) const;

 private:
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  void advance(size_t n = 1);
  void skip_space_and_comments();
  std::string lex_quoted(int line, int col);  // at the opening '"'; returns the decoded bytes
  Token lex_number(Token t);

  std::string_view text_;
  std::string filename_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

// A value or node name prints bare when it is runs of [A-Za-z0-9_./-] joined by "::" (so that
// "%x:f32[..]" still splits at the single colon); otherwise it is quoted.
bool is_bare_name(std::string_view s);
// [A-Za-z_][A-Za-z0-9_]*: graph-level words that print bare (attribute keys, dim symbols, ops).
bool is_identifier(std::string_view s);
// "..." with \" \\ \n \t \r and \xHH for other control bytes; bytes >= 0x80 are written as-is.
std::string quote(std::string_view s);

}  // namespace fc::ir::text
