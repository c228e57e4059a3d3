// A check of a recipe's raw text before toml++ parses it (runtime/recipe.cpp).
#pragma once

#include <string>

namespace fc::runtime {

// toml++ 3.x (Debian's) reaches __builtin_unreachable, undefined behaviour, for some non-ASCII
// characters where whitespace may stand (U+00A1, for one: a gap in its Unicode table; found by
// fuzzing). TOML allows non-ASCII only inside strings and comments, so any other is refused first.
// Throws fc::Error "<path>:<line>: a non-ASCII character outside a string or comment".
void check_non_ascii_placement(const std::string& text, const std::string& path);

}  // namespace fc::runtime
