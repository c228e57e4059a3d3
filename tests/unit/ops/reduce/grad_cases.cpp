// Finite-difference cases (gradcheck.h) for the reductions; ReduceMax/Min inputs from distinct_values (no
// near-ties).
#include <optional>
#include <string>

#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_reduce_grad_cases) {
  using Ints = std::vector<int64_t>;
  using Attrs = std::map<std::string, ir::Attribute>;
  using ir::Tensor;
  // Reductions over [2,3,4]: keepdims 0/1, negative axes, all axes.
  auto reduce = [&](const char* op, Tensor x, std::optional<Ints> axes, int64_t keepdims) {
    Attrs attrs{{"keepdims", keepdims}};
    std::string label = std::string(op) + " keepdims " + std::to_string(keepdims) + " axes";
    if (axes) {
      attrs["axes"] = *axes;
      for (int64_t a : *axes) label += " " + std::to_string(a);
    } else {
      label += " (all)";
    }
    cases.push_back({.label = label, .op = op, .inputs = {x}, .attrs = attrs});
  };
  reduce("ReduceSum", random_tensor({2, 3, 4}, 270), Ints{1}, 1);
  reduce("ReduceSum", random_tensor({2, 3, 4}, 271), Ints{-1}, 0);
  reduce("ReduceSum", random_tensor({2, 3, 4}, 272), Ints{0, 2}, 1);
  reduce("ReduceSum", random_tensor({2, 3, 4}, 273), std::nullopt, 0);
  reduce("ReduceMean", random_tensor({2, 3, 4}, 274), Ints{-2}, 0);
  reduce("ReduceMean", random_tensor({2, 3, 4}, 275), Ints{0, -1}, 1);
  reduce("ReduceMean", random_tensor({2, 3, 4}, 276), std::nullopt, 1);
  reduce("ReduceMax", distinct_values({{2, 3, 4}}, 277)[0], Ints{1}, 0);
  reduce("ReduceMax", distinct_values({{2, 3, 4}}, 278)[0], Ints{-1, 0}, 1);
  reduce("ReduceMax", distinct_values({{2, 3, 4}}, 279)[0], std::nullopt, 0);
  reduce("ReduceMin", distinct_values({{2, 3, 4}}, 280)[0], Ints{2}, 0);
  reduce("ReduceMin", distinct_values({{2, 3, 4}}, 281)[0], Ints{-3}, 1);

}

}  // namespace fc::test
