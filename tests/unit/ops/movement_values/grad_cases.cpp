// Finite-difference cases (gradcheck.h) for Cast and Gather (an embedding with repeated ids).

#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_movement_values_grad_cases) {
  cases.push_back(onnx_case("Cast f32 to f32", "Cast", {random_tensor({3}, 414)}, {{"to", std::string("f32")}}));
  // An embedding: ids [2, 3] with repeats (row 1 three times, row 4 twice) into a [5, 4] table; rows
  // 0 and 2 are never read (zero gradient).
  cases.push_back(onnx_case("Gather embedding, repeated ids", "Gather",
      {random_tensor({5, 4}, 415), ir::Tensor::from_vector<int64_t>({2, 3}, {1, 4, 1, 3, 1, 4})}, {}));
  cases.push_back(onnx_case("Gather axis 1, negative and repeated indices", "Gather",
      {random_tensor({2, 4, 3}, 416), ir::Tensor::from_vector<int64_t>({3}, {-1, 0, 3})}, {{"axis", int64_t{1}}}));
}

}  // namespace fc::test
