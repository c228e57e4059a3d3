// The one place where partial gradients meet. A value used by several nodes (fan-out) receives one
// partial gradient per use; the accumulator keeps them and, when the total is asked for, emits a
// single Sum node (or returns the only partial). Tested on its own in tests/unit/autodiff_test.cpp.
#pragma once

#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace fc::passes {

class GradAccumulator {
 public:
  explicit GradAccumulator(ir::Graph& g) : g_(g) {}
  void add(ir::Value* value, ir::Value* partial);
  bool has(const ir::Value* value) const { return partials_.count(value) != 0; }
  // The total gradient of `value` (null when no partial arrived). Emits the Sum node on first call.
  ir::Value* total(ir::Value* value);

 private:
  ir::Graph& g_;
  std::unordered_map<const ir::Value*, std::vector<ir::Value*>> partials_;
  std::unordered_map<const ir::Value*, ir::Value*> totals_;
};

}  // namespace fc::passes
