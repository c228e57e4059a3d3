// The recipe text check (see recipe_text_check.h): a scan of TOML's string and comment states.
#include "runtime/recipe_text_check.h"

#include <cstdint>
#include <cstring>

#include "support/error.h"

namespace fc::runtime {

void check_non_ascii_placement(const std::string& text, const std::string& path) {
  enum { Plain, Comment, Basic, Literal, MultiBasic, MultiLiteral } state = Plain;
  int64_t line = 1;
  for (size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0; i < text.size(); ++i) {  // a BOM is allowed
    const char c = text[i];
    const auto at = [&](const char* s) { return text.compare(i, std::strlen(s), s) == 0; };
    const bool escape = c == '\\' && i + 1 < text.size() && text[i + 1] != '\n';
    if (c == '\n') {
      ++line;
      if (state == Comment || state == Basic || state == Literal) state = Plain;
      continue;
    }
    if (state == Plain) {
      FC_CHECK(static_cast<unsigned char>(c) < 0x80, path, ":", line,
               ": a non-ASCII character outside a string or comment (not valid TOML)");
      if (c == '#') state = Comment;
      else if (at("\"\"\"")) state = MultiBasic, i += 2;
      else if (at("\'\'\'")) state = MultiLiteral, i += 2;
      else if (c == '"') state = Basic;
      else if (c == '\'') state = Literal;
    } else if ((state == Basic || state == MultiBasic) && escape) {
      ++i;
    } else if ((state == Basic && c == '"') || (state == Literal && c == '\'')) {
      state = Plain;
    } else if ((state == MultiBasic && at("\"\"\"")) || (state == MultiLiteral && at("\'\'\'"))) {
      state = Plain, i += 2;
    }
  }
}

}  // namespace fc::runtime
