// Finite-difference cases (gradcheck.h) for Gemm and MatMul: transposes, alpha/beta, C broadcast, batched
// and vector operands.
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_gemm_grad_cases) {
  cases.push_back({.label = "Gemm plain", .op = "Gemm",
                   .inputs = {random_tensor({3, 4}, 122), random_tensor({4, 2}, 123), random_tensor({3, 2}, 124)}});
  cases.push_back({.label = "Gemm transA alpha beta, C row", .op = "Gemm",
                   .inputs = {random_tensor({4, 3}, 125), random_tensor({4, 2}, 126), random_tensor({2}, 127)},
                   .attrs = {{"transA", int64_t{1}}, {"alpha", 0.5f}, {"beta", 2.0f}}});
  cases.push_back({.label = "Gemm transB, C column", .op = "Gemm",
                   .inputs = {random_tensor({3, 4}, 128), random_tensor({2, 4}, 129), random_tensor({3, 1}, 130)},
                   .attrs = {{"transB", int64_t{1}}, {"beta", -1.5f}}});
  cases.push_back({.label = "Gemm transA transB, no C", .op = "Gemm",
                   .inputs = {random_tensor({4, 3}, 131), random_tensor({2, 4}, 132)},
                   .attrs = {{"transA", int64_t{1}}, {"transB", int64_t{1}}, {"alpha", 1.5f}}});
  cases.push_back({.label = "MatMul 2d", .op = "MatMul", .inputs = {random_tensor({3, 4}, 133), random_tensor({4, 2}, 134)}});
  cases.push_back({.label = "MatMul batched x 2d", .op = "MatMul",
                   .inputs = {random_tensor({2, 3, 4}, 135), random_tensor({4, 2}, 136)}});
  cases.push_back({.label = "MatMul broadcast batches", .op = "MatMul",
                   .inputs = {random_tensor({2, 1, 3, 4}, 137), random_tensor({3, 4, 2}, 138)}});
  cases.push_back({.label = "MatMul 2d x batched", .op = "MatMul",
                   .inputs = {random_tensor({3, 4}, 139), random_tensor({2, 4, 2}, 140)}});
  cases.push_back({.label = "MatMul vector x batched", .op = "MatMul",
                   .inputs = {random_tensor({4}, 141), random_tensor({2, 4, 3}, 142)}});
  cases.push_back({.label = "MatMul batched x vector", .op = "MatMul",
                   .inputs = {random_tensor({2, 3, 4}, 143), random_tensor({4}, 144)}});
  cases.push_back({.label = "MatMul vector x vector", .op = "MatMul",
                   .inputs = {random_tensor({4}, 145), random_tensor({4}, 146)}});
}

}  // namespace fc::test
