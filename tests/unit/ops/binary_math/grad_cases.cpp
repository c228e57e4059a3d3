// Finite-difference cases (gradcheck.h) for the broadcasting binary ops, the variadic ones and Where;
// Max/Min inputs from distinct_values (no near-ties).
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_binary_math_grad_cases) {
  using Ints = std::vector<int64_t>;
  using Attrs = std::map<std::string, ir::Attribute>;
  using ir::Tensor;
  // Broadcasting binary ops: same shape, [2,3,4] with [3,1], with a scalar, and the smaller on the left.
  auto binary = [&](const char* op, Tensor a, Tensor b, Attrs attrs = {}) {
    std::string label = std::string(op) + " " + ir::to_string(a.type()) + " " + ir::to_string(b.type());
    cases.push_back({.label = label, .op = op, .inputs = {a, b}, .attrs = std::move(attrs)});
  };
  uint64_t seed = 220;
  for (const char* op : {"Add", "Sub", "Mul"}) {
    for (const auto& [a, b] : std::vector<std::pair<Ints, Ints>>{
             {{2, 3}, {2, 3}}, {{2, 3, 4}, {3, 1}}, {{2, 3, 4}, {}}, {{3, 1}, {2, 3, 4}}}) {
      binary(op, random_tensor(a, seed), random_tensor(b, seed + 1));
      seed += 2;
    }
  }
  binary("Div", random_tensor({2, 3}, 240), random_tensor({2, 3}, 241, -2, 2, 0.5f));
  binary("Div", random_tensor({2, 3, 4}, 242), random_tensor({3, 1}, 243, -2, 2, 0.5f));
  binary("Div", random_tensor({2, 3, 4}, 244), random_tensor({}, 245, 0.5f, 2));
  binary("Div", random_tensor({3, 1}, 246), random_tensor({2, 3, 4}, 247, -2, 2, 0.5f));
  binary("Pow", random_tensor({2, 3}, 248, 0.5f, 2), random_tensor({2, 3}, 249, -1.5f, 1.5f));
  binary("Pow", random_tensor({2, 3, 4}, 250, 0.5f, 2), random_tensor({3, 1}, 251, -1.5f, 1.5f));
  binary("Pow", random_tensor({2, 3, 4}, 252, 0.5f, 2), random_tensor({}, 253, -1.5f, 1.5f));
  binary("Pow", random_tensor({3, 1}, 254, 0.5f, 2), random_tensor({2, 3, 4}, 255, -1.5f, 1.5f));
  binary("Pow", random_tensor({2, 4}, 256, -2, 2, 0.2f), Tensor::from_vector<int64_t>({4}, {2, 3, -1, 0}));
  for (const char* op : {"Max", "Min"}) {
    std::vector<Tensor> s = distinct_values({{3, 4}, {3, 4}}, 257);
    binary(op, s[0], s[1]);
    s = distinct_values({{2, 3, 4}, {3, 1}}, 258);
    binary(op, s[0], s[1]);
    s = distinct_values({{3, 1}, {2, 3, 4}, {}}, 259);
    cases.push_back({.label = std::string(op) + " of three, broadcast", .op = op, .inputs = s});
    cases.push_back({.label = std::string(op) + " of one", .op = op, .inputs = {random_tensor({2, 3}, 260)}});
  }
  for (const char* op : {"Sum", "Mean"}) {
    cases.push_back({.label = std::string(op) + " of three, broadcast", .op = op,
                     .inputs = {random_tensor({2, 3}, 261), random_tensor({3}, 262), random_tensor({}, 263)}});
    cases.push_back({.label = std::string(op) + " of two", .op = op,
                     .inputs = {random_tensor({2, 3}, 264), random_tensor({2, 3}, 265)}});
  }
  Tensor cond(ir::DType::Bool, {2, 3, 1});
  for (size_t i = 0; i < cond.numel(); ++i) cond.data<bool>()[i] = (i * 7) % 3 != 0;
  cases.push_back({.label = "Where broadcast cond [2,3,1] x [2,3,4] y [3,1]", .op = "Where",
                   .inputs = {cond, random_tensor({2, 3, 4}, 266), random_tensor({3, 1}, 267)}});
  cases.push_back({.label = "Where scalar x", .op = "Where",
                   .inputs = {cond, random_tensor({}, 268), random_tensor({2, 3, 4}, 269)}});

}

}  // namespace fc::test
