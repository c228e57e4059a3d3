#include "ir/scalar_form.h"

#include <algorithm>

#include "support/error.h"
#include "ir/op_registry.h"

namespace fc::ir {

FusedKernel node_kernel(const Node& n, const std::vector<std::vector<int64_t>>& input_shapes,
                        const std::vector<int64_t>& out_shape) {
  const OpSchema* schema = OpRegistry::global().find(n.op, n.domain);
  FC_CHECK(schema && schema->scalar, n.describe(), ": op has no scalar form");
  FusedKernel k(out_shape);
  std::vector<int> in;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const int input = k.add_input(i < input_shapes.size() ? input_shapes[i] : std::vector<int64_t>{});
    const bool table = std::find(schema->table_inputs.begin(), schema->table_inputs.end(), static_cast<int>(i)) !=
                       schema->table_inputs.end();
    in.push_back(table ? input : k.load(input));
  }
  for (int v : schema->scalar(k, n, in)) k.add_output(v);
  FC_CHECK(k.num_outputs() == static_cast<int>(n.outputs.size()), n.describe(), ": scalar form made ", k.num_outputs(),
           " outputs, node has ", n.outputs.size());
  return k;
}

bool is_optimizer_update(const Node& n) { return op_kind(n) == OpKind::OptimizerUpdate; }

}  // namespace fc::ir
