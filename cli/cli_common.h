// What both executables share: the top-level error boundary (print fc::Error once, exit 1).
#pragma once

#include <functional>

namespace fc::cli {

// Runs `body`, turning any fc::Error or std::exception into "<prog>: error: <message>" and exit code 1.
int guarded_main(const char* prog, const std::function<int()>& body);

}  // namespace fc::cli
