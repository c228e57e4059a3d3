// fcrun: the runtime driver (infer).
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "ir/error.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return fc::cli::guarded_main("fcrun", [&]() -> int {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
      std::cout << "usage: fcrun infer MODEL.onnx --input NAME=FILE.npy --output FILE.npy\n";
      return args.empty() ? 2 : 0;
    }
    fc::fail("unknown command '", args[0], "' (see fcrun --help)");
  });
}
