// Finite-difference cases (gradcheck.h) for BatchNormalization in inference form.
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_batch_norm_grad_cases) {
  cases.push_back({.label = "BatchNormalization inference", .op = "BatchNormalization",
                   .inputs = {random_tensor({3, 2, 2, 2}, 149), random_tensor({2}, 150, 0.5f, 1.5f),
                              random_tensor({2}, 151), random_tensor({2}, 152), random_tensor({2}, 153, 0.5f, 1.5f)},
                   .attrs = {{"epsilon", 1e-3f}}});
}

}  // namespace fc::test
