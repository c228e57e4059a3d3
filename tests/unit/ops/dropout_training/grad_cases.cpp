// Finite-difference cases (gradcheck.h) for fc.DropoutTraining (the output seeded, its mask fixed by the
// seed input).
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_dropout_training_grad_cases) {
  using ir::Tensor;
  cases.push_back({.label = "DropoutTraining", .op = "DropoutTraining", .domain = "fc",
                   .inputs = {random_tensor({4, 5}, 8), Tensor::from_vector<int64_t>({2}, {7, 3})},
                   .attrs = {{"ratio", 0.3f}}, .num_outputs = 2, .check_inputs = {0}, .seeded_outputs = {0}});
}

}  // namespace fc::test
