#include "passes/grad_accumulator.h"

#include "support/error.h"
#include "ir/op_registry.h"

namespace fc::passes {

void GradAccumulator::add(ir::Value* value, ir::Value* partial) {
  FC_ASSERT(!totals_.count(value));  // every partial must arrive before the total is used
  partials_[value].push_back(partial);
}

ir::Value* GradAccumulator::total(ir::Value* value) {
  if (auto it = totals_.find(value); it != totals_.end()) return it->second;
  auto it = partials_.find(value);
  if (it == partials_.end()) return nullptr;
  ir::Value* result = it->second.front();
  if (it->second.size() > 1) {
    result = g_.add_value(g_.unique_name(value->name + "/grad_sum"), {});
    ir::add_node_inferred(g_, "Sum", "", it->second, {result}, {}, value->name + "/grad_sum");
  }
  totals_[value] = result;
  return result;
}

}  // namespace fc::passes
