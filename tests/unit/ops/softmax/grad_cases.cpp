// Finite-difference cases (gradcheck.h) for Softmax and LogSoftmax on every axis, and under a causal -inf
// mask.
#include <cmath>

#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_softmax_grad_cases) {
  using ir::Tensor;
  for (const char* op : {"Softmax", "LogSoftmax"})
    for (int64_t axis : {1, -1, 0})
      cases.push_back({.label = std::string(op) + " axis " + std::to_string(axis), .op = op,
                       .inputs = {random_tensor({2, 3, 4}, 282 + axis, -2, 2)}, .attrs = {{"axis", axis}}});

  {  // attention scores under a causal mask: -inf above the diagonal of each [4, 4] block
    Tensor scores = random_tensor({2, 4, 4}, 285, -2, 2);
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t r = 0; r < 4; ++r)
        for (int64_t c = r + 1; c < 4; ++c) scores.data<float>()[(b * 4 + r) * 4 + c] = -INFINITY;
    cases.push_back({.label = "Softmax causal mask (-inf)", .op = "Softmax", .inputs = {scores},
                     .attrs = {{"axis", int64_t{-1}}}});
  }
}

}  // namespace fc::test
