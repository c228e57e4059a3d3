// Finite-difference cases (gradcheck.h) for fc.SoftmaxCrossEntropy: reductions, ignore_index, label
// smoothing, token logits.
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_softmax_cross_entropy_grad_cases) {
  using ir::Tensor;
  auto labels = Tensor::from_vector<int64_t>({4}, {0, 2, 1, 2});
  cases.push_back({.label = "SoftmaxCrossEntropy", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 1, -2, 2), labels}});
  cases.push_back({.label = "SoftmaxCrossEntropy scale_count", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 2, -2, 2), labels}, .attrs = {{"scale_count", int64_t{8}}}});
  cases.push_back({.label = "SoftmaxCrossEntropy sum, ignore_index", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 9, -2, 2), Tensor::from_vector<int64_t>({4}, {0, -100, 1, 2})},
                   .attrs = {{"reduction", std::string("sum")}, {"ignore_index", int64_t{-100}}}});
  cases.push_back({.label = "SoftmaxCrossEntropy mean, ignore_index", .op = "SoftmaxCrossEntropy", .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 10, -2, 2), Tensor::from_vector<int64_t>({4}, {2, 1, 1, 2})},
                   .attrs = {{"ignore_index", int64_t{1}}}});
  cases.push_back({.label = "SoftmaxCrossEntropy label_smoothing, ignore_index", .op = "SoftmaxCrossEntropy",
                   .domain = "fc",
                   .inputs = {random_tensor({4, 3}, 11, -2, 2), Tensor::from_vector<int64_t>({4}, {0, -100, 2, 2})},
                   .attrs = {{"ignore_index", int64_t{-100}}, {"label_smoothing", 0.2f}}});
  cases.push_back({.label = "SoftmaxCrossEntropy tokens [N, T, V], label_smoothing", .op = "SoftmaxCrossEntropy",
                   .domain = "fc",
                   .inputs = {random_tensor({2, 3, 5}, 12, -2, 2),
                              Tensor::from_vector<int64_t>({2, 3}, {4, 0, 1, 1, 3, 2})},
                   .attrs = {{"label_smoothing", 0.1f}}});
}

}  // namespace fc::test
