// One or more finite-difference cases per op with a gradient rule (see gradcheck.h). Inputs are
// small; values are kept away from kinks where the op has them.
#include "gradcheck.h"

namespace fc::test {

using ir::Tensor;

std::vector<GradCase> grad_cases() {
  std::vector<GradCase> cases;
  auto labels = Tensor::from_vector<int64_t>({4}, {0, 2, 1, 2});
  cases.push_back({.label = "SoftmaxCrossEntropy", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 1, -2, 2), labels}});
  cases.push_back({.label = "SoftmaxCrossEntropy scale_count", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 2, -2, 2), labels}, .attrs = {{"scale_count", int64_t{8}}}});
  cases.push_back({.label = "BatchNormTraining", .op = "BatchNormTraining", .domain = "fc",
                   .inputs = {random_tensor({3, 2, 2, 2}, 3), random_tensor({2}, 4, 0.5f, 1.5f),
                              random_tensor({2}, 5), random_tensor({2}, 6), random_tensor({2}, 7, 0.5f, 1.5f)},
                   .num_outputs = 5, .check_inputs = {0, 1, 2}, .seeded_outputs = {0}});
  cases.push_back({.label = "DropoutTraining", .op = "DropoutTraining", .domain = "fc",
                   .inputs = {random_tensor({4, 5}, 8), Tensor::from_vector<int64_t>({2}, {7, 3})},
                   .attrs = {{"ratio", 0.3f}}, .num_outputs = 2, .check_inputs = {0}, .seeded_outputs = {0}});
  return cases;
}

}  // namespace fc::test
