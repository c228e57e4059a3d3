// The project's one error type. User mistakes (bad model, bad recipe, bad data) are reported by
// throwing fc::Error with a message that names the file / node / key; the CLI prints it once and
// exits non-zero. Invariant violations use FC_ASSERT, which also throws (never aborts) so that a
// bug still ends in a one-line message rather than a core dump.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace fc {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

// Throws fc::Error with the streamed arguments concatenated: fail("node '", name, "': bad axis").
template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(detail::concat(args...));
}

}  // namespace fc

#define FC_CHECK(cond, ...)                   \
  do {                                        \
    if (!(cond)) ::fc::fail(__VA_ARGS__);     \
  } while (0)

#define FC_ASSERT(cond)                                                                     \
  do {                                                                                      \
    if (!(cond))                                                                            \
      ::fc::fail("internal error: assertion '", #cond, "' failed at ", __FILE__, ":", __LINE__); \
  } while (0)
