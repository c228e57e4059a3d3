// The message of the fc::Error a callable throws, for tests of one-line user errors.
#pragma once

#include <string>

#include "support/error.h"

namespace fc::test {

// The message of the fc::Error that f throws ("" if none); any other exception escapes.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const fc::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace fc::test
