#include "passes/grad_accumulator.h"

#include "ir/error.h"
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
    ir::Node* n = g_.add_node("Sum", it->second, {result}, {}, g_.unique_node_name(value->name + "/grad_sum"));
    std::vector<ir::TensorType> ins;
    for (ir::Value* p : it->second) ins.push_back(p->type);
    result->type = ir::infer_output_types(*n, ins, std::vector<const ir::Tensor*>(ins.size(), nullptr))[0];
  }
  totals_[value] = result;
  return result;
}

}  // namespace fc::passes
