// Relu: y = max(x, 0). (Exemplar of an op record: schema, shape function, cost.)
#include "ir/op_helpers.h"

namespace fc::ir {

FC_REGISTER_OP(OpSchema{
    .name = "Relu",
    .since_opset = 1,
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = same_as_input0,
    .cost = elementwise_cost(1),
    .doc = "max(x, 0)",
});

}  // namespace fc::ir
