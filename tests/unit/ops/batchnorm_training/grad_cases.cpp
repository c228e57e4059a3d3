// Finite-difference cases (gradcheck.h) for fc.BatchNormTraining (the normalised output seeded).
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_batchnorm_training_grad_cases) {
  cases.push_back({.label = "BatchNormTraining", .op = "BatchNormTraining", .domain = "fc",
                   .inputs = {random_tensor({3, 2, 2, 2}, 3), random_tensor({2}, 4, 0.5f, 1.5f),
                              random_tensor({2}, 5), random_tensor({2}, 6), random_tensor({2}, 7, 0.5f, 1.5f)},
                   .num_outputs = 5, .check_inputs = {0, 1, 2}, .seeded_outputs = {0}});
}

}  // namespace fc::test
