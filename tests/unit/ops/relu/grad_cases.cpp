// Finite-difference cases (gradcheck.h) for Relu (inputs kept away from its kink at 0).
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_relu_grad_cases) {
  cases.push_back(onnx_case("Relu", "Relu", {random_tensor({3, 4}, 201, -1, 1, 0.1f)}));
}

}  // namespace fc::test
