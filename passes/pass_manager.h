// Runs a pipeline of graph -> graph passes. Can verify the graph after every pass, print the IR
// before/after a named pass, and stop after pass N to bisect a miscompile.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace fc::passes {

struct Pass {
  std::string name;
  std::function<void(ir::Graph&)> run;
};

struct PassManagerOptions {
  bool verify_each = true;
  std::string print_after;     // pass name, or "all"
  int stop_after = -1;         // run only the first N passes when >= 0
  std::ostream* dump = nullptr;
};

class PassManager {
 public:
  explicit PassManager(PassManagerOptions options = {}) : options_(std::move(options)) {}
  void add(Pass p) { passes_.push_back(std::move(p)); }
  void run(ir::Graph& g) const;
  const std::vector<Pass>& passes() const { return passes_; }

 private:
  PassManagerOptions options_;
  std::vector<Pass> passes_;
};

}  // namespace fc::passes
