#include "cli/cli_common.h"

#include <iostream>
#include <new>

#include "ir/error.h"

namespace fc::cli {

int guarded_main(const char* prog, const std::function<int()>& body) {
  try {
    return body();
  } catch (const fc::Error& e) {
    std::cerr << prog << ": error: " << e.what() << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << prog << ": error: out of memory\n";
  } catch (const std::exception& e) {
    std::cerr << prog << ": error: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace fc::cli
