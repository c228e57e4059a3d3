// Finite-difference cases (gradcheck.h) for GatherND as Swin's relative-position bias table is read.

#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_gather_nd_grad_cases) {
  // GatherND as Swin's relative-position bias table is read: repeated rows, a negative index; and
  // with a batch dim.
  cases.push_back(onnx_case("GatherND repeated and negative tuples", "GatherND",
      {random_tensor({4, 3}, 420), ir::Tensor::from_vector<int64_t>({2, 3, 1}, {1, 3, 1, -1, 0, 1})}, {}));
  cases.push_back(onnx_case("GatherND batch_dims 1", "GatherND",
      {random_tensor({2, 3, 4}, 421), ir::Tensor::from_vector<int64_t>({2, 2, 2}, {0, 1, 2, 3, 1, 0, 1, 0})},
      {{"batch_dims", int64_t{1}}}));
}

}  // namespace fc::test
