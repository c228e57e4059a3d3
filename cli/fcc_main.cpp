// fcc: the compiler driver (inspect, compile).
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "ir/error.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return fc::cli::guarded_main("fcc", [&]() -> int {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
      std::cout << "usage: fcc inspect MODEL.onnx | fcc compile MODEL.onnx --emit ir\n";
      return args.empty() ? 2 : 0;
    }
    fc::fail("unknown command '", args[0], "' (see fcc --help)");
  });
}
