// Runs a pipeline of graph -> graph passes. Verifies the graph after every pass (on by default: a
// pass that leaves it inconsistent is named), prints the IR after a named pass (or all), and stops
// after a named pass, to see or bisect what each pass did (`fcc compile --print-after/--stop-after`).
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
  std::string stop_after;      // pass name: the passes after it do not run
  std::ostream* dump = nullptr;  // where print_after prints
};

class PassManager {
 public:
  explicit PassManager(PassManagerOptions options = {}) : options_(std::move(options)) {}
  void add(Pass p) { passes_.push_back(std::move(p)); }
  // Throws fc::Error when print_after or stop_after names no pass of the pipeline.
  void run(ir::Graph& g) const;
  const std::vector<Pass>& passes() const { return passes_; }

 private:
  PassManagerOptions options_;
  std::vector<Pass> passes_;
};

}  // namespace fc::passes
