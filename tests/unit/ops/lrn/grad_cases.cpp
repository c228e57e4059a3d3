// Finite-difference cases (gradcheck.h) for LRN.
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_lrn_grad_cases) {
  cases.push_back({.label = "LRN size 3", .op = "LRN", .inputs = {random_tensor({2, 5, 2, 2}, 147)},
                   .attrs = {{"size", int64_t{3}}, {"alpha", 0.5f}, {"beta", 0.75f}, {"bias", 1.5f}}});
  cases.push_back({.label = "LRN size 4", .op = "LRN", .inputs = {random_tensor({2, 6, 3}, 148)},
                   .attrs = {{"size", int64_t{4}}, {"alpha", 0.8f}, {"beta", 0.6f}, {"bias", 1.0f}}});
}

}  // namespace fc::test
