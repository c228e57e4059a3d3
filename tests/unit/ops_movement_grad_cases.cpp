// Finite-difference cases (gradcheck.h) for the data-movement ops with gradient rules; appended to
// grad_cases() by gradcheck_cases.cpp. Their adjoints are also checked exactly in
// ops_movement_grad_test.cpp.
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_movement_grad_cases) {
  using Ints = std::vector<int64_t>;
  auto one = [&](std::string label, std::string op, std::vector<ir::Tensor> inputs,
                 std::map<std::string, ir::Attribute> attrs, int num_outputs = 1, std::vector<int> seeded = {}) {
    cases.push_back({.label = std::move(label), .op = std::move(op), .inputs = std::move(inputs),
                     .attrs = std::move(attrs), .num_outputs = num_outputs, .seeded_outputs = std::move(seeded)});
  };
  one("Reshape [2,3,4] to [0,-1]", "Reshape", {random_tensor({2, 3, 4}, 401)}, {{"shape", Ints{0, -1}}});
  one("Flatten axis 2", "Flatten", {random_tensor({2, 3, 4}, 402)}, {{"axis", int64_t{2}}});
  one("Squeeze all", "Squeeze", {random_tensor({3, 1, 2}, 403)}, {});
  one("Unsqueeze 0, -1", "Unsqueeze", {random_tensor({3, 2}, 404)}, {{"axes", Ints{0, -1}}});
  one("Identity", "Identity", {random_tensor({4}, 405)}, {});
  one("Dropout inference with mask", "Dropout", {random_tensor({2, 5}, 406)}, {{"ratio", 0.3f}}, 2, {0});
  one("Transpose perm 1,2,0", "Transpose", {random_tensor({2, 3, 4}, 407)}, {{"perm", Ints{1, 2, 0}}});
  one("Slice two axes", "Slice", {random_tensor({4, 6}, 408)}, {{"starts", Ints{1, -4}}, {"ends", Ints{3, INT64_MAX}}});
  // Strided slices (Swin's patch merging takes x[..., 0::2, 1::2, :]): steps 2 and 3 with the last
  // step ending short of the input, a negative step, and an axis taking nothing.
  one("Slice steps 2 and 3", "Slice", {random_tensor({2, 7, 8}, 417)},
      {{"starts", Ints{1, 0}}, {"ends", Ints{INT64_MAX, 7}}, {"axes", Ints{1, 2}}, {"steps", Ints{2, 3}}});
  one("Slice step -2", "Slice", {random_tensor({3, 9}, 418)},
      {{"starts", Ints{-2}}, {"ends", Ints{0}}, {"axes", Ints{1}}, {"steps", Ints{-2}}});
  one("Slice step -1 whole axis, step 2 on another", "Slice", {random_tensor({4, 5}, 419)},
      {{"starts", Ints{-1, 1}}, {"ends", Ints{INT64_MIN, INT64_MAX}}, {"steps", Ints{-1, 2}}});
  one("Pad crop and pad", "Pad", {random_tensor({3, 4}, 409)}, {{"pads", Ints{-1, 2, 1, -2}}});
  one("Concat axis -1", "Concat", {random_tensor({2, 3}, 410), random_tensor({2, 1}, 411)}, {{"axis", int64_t{-1}}});
  one("Split sizes 1,4, output 0 unused", "Split", {random_tensor({2, 5}, 412)},
      {{"axis", int64_t{1}}, {"split", Ints{1, 4}}}, 2, {1});
  one("Expand [3,1] to [2,3,4]", "Expand", {random_tensor({3, 1}, 413)}, {{"shape", Ints{2, 3, 4}}});
  one("Cast f32 to f32", "Cast", {random_tensor({3}, 414)}, {{"to", std::string("f32")}});
  // An embedding: ids [2, 3] with repeats (row 1 three times, row 4 twice) into a [5, 4] table; rows
  // 0 and 2 are never read (zero gradient).
  one("Gather embedding, repeated ids", "Gather",
      {random_tensor({5, 4}, 415), ir::Tensor::from_vector<int64_t>({2, 3}, {1, 4, 1, 3, 1, 4})}, {});
  // GatherND as Swin's relative-position bias table is read: repeated rows, a negative index; and
  // with a batch dim.
  one("GatherND repeated and negative tuples", "GatherND",
      {random_tensor({4, 3}, 420), ir::Tensor::from_vector<int64_t>({2, 3, 1}, {1, 3, 1, -1, 0, 1})}, {});
  one("GatherND batch_dims 1", "GatherND",
      {random_tensor({2, 3, 4}, 421), ir::Tensor::from_vector<int64_t>({2, 2, 2}, {0, 1, 2, 3, 1, 0, 1, 0})},
      {{"batch_dims", int64_t{1}}});
  one("Gather axis 1, negative and repeated indices", "Gather",
      {random_tensor({2, 4, 3}, 416), ir::Tensor::from_vector<int64_t>({3}, {-1, 0, 3})}, {{"axis", int64_t{1}}});
}

}  // namespace fc::test
