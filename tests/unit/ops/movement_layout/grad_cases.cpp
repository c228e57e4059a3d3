// Finite-difference cases (gradcheck.h) for the layout ops (strided slices as Swin's patch merging takes
// them).
#include <climits>

#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_movement_layout_grad_cases) {
  using Ints = std::vector<int64_t>;
  cases.push_back(onnx_case("Transpose perm 1,2,0", "Transpose", {random_tensor({2, 3, 4}, 407)}, {{"perm", Ints{1, 2, 0}}}));
  cases.push_back(onnx_case("Slice two axes", "Slice", {random_tensor({4, 6}, 408)}, {{"starts", Ints{1, -4}}, {"ends", Ints{3, INT64_MAX}}}));
  // Strided slices (Swin's patch merging takes x[..., 0::2, 1::2, :]): steps 2 and 3 with the last
  // step ending short of the input, a negative step, and an axis taking nothing.
  cases.push_back(onnx_case("Slice steps 2 and 3", "Slice", {random_tensor({2, 7, 8}, 417)},
      {{"starts", Ints{1, 0}}, {"ends", Ints{INT64_MAX, 7}}, {"axes", Ints{1, 2}}, {"steps", Ints{2, 3}}}));
  cases.push_back(onnx_case("Slice step -2", "Slice", {random_tensor({3, 9}, 418)},
      {{"starts", Ints{-2}}, {"ends", Ints{0}}, {"axes", Ints{1}}, {"steps", Ints{-2}}}));
  cases.push_back(onnx_case("Slice step -1 whole axis, step 2 on another", "Slice", {random_tensor({4, 5}, 419)},
      {{"starts", Ints{-1, 1}}, {"ends", Ints{INT64_MIN, INT64_MAX}}, {"steps", Ints{-1, 2}}}));
  cases.push_back(onnx_case("Pad crop and pad", "Pad", {random_tensor({3, 4}, 409)}, {{"pads", Ints{-1, 2, 1, -2}}}));
  cases.push_back(onnx_case("Concat axis -1", "Concat", {random_tensor({2, 3}, 410), random_tensor({2, 1}, 411)}, {{"axis", int64_t{-1}}}));
  cases.push_back(onnx_case("Split sizes 1,4, output 0 unused", "Split", {random_tensor({2, 5}, 412)},
      {{"axis", int64_t{1}}, {"split", Ints{1, 4}}}, 2, {1}));
  cases.push_back(onnx_case("Expand [3,1] to [2,3,4]", "Expand", {random_tensor({3, 1}, 413)}, {{"shape", Ints{2, 3, 4}}}));
}

}  // namespace fc::test
