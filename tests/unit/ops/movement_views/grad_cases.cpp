// Finite-difference cases (gradcheck.h) for the view ops.

#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_movement_views_grad_cases) {
  using Ints = std::vector<int64_t>;
  cases.push_back(onnx_case("Reshape [2,3,4] to [0,-1]", "Reshape", {random_tensor({2, 3, 4}, 401)}, {{"shape", Ints{0, -1}}}));
  cases.push_back(onnx_case("Flatten axis 2", "Flatten", {random_tensor({2, 3, 4}, 402)}, {{"axis", int64_t{2}}}));
  cases.push_back(onnx_case("Squeeze all", "Squeeze", {random_tensor({3, 1, 2}, 403)}, {}));
  cases.push_back(onnx_case("Unsqueeze 0, -1", "Unsqueeze", {random_tensor({3, 2}, 404)}, {{"axes", Ints{0, -1}}}));
  cases.push_back(onnx_case("Identity", "Identity", {random_tensor({4}, 405)}, {}));
  cases.push_back(onnx_case("Dropout inference with mask", "Dropout", {random_tensor({2, 5}, 406)}, {{"ratio", 0.3f}}, 2, {0}));
}

}  // namespace fc::test
