// Finite-difference cases (gradcheck.h) for the unary math ops (inputs kept away from kinks by avoid_kinks).
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_unary_math_grad_cases) {
  using Attrs = std::map<std::string, ir::Attribute>;
  using ir::Tensor;
  auto unary = [&](const char* label, const char* op, Tensor x, Attrs attrs = {}) {
    cases.push_back({.label = label, .op = op, .inputs = {x}, .attrs = std::move(attrs)});
  };
  unary("LeakyRelu alpha 0.1", "LeakyRelu", random_tensor({3, 4}, 202, -1, 1, 0.1f), {{"alpha", 0.1f}});
  unary("Clip min max", "Clip", avoid_kinks(random_tensor({3, 4}, 203), {-0.5f, 0.4f}, 0.05f),
        {{"min", -0.5f}, {"max", 0.4f}});
  unary("Clip min only", "Clip", random_tensor({3, 4}, 204, -1, 1, 0.1f), {{"min", 0.0f}});
  unary("Sigmoid", "Sigmoid", random_tensor({3, 4}, 205, -3, 3));
  unary("Tanh", "Tanh", random_tensor({3, 4}, 206, -2, 2));
  unary("HardSigmoid default", "HardSigmoid", avoid_kinks(random_tensor({3, 4}, 207, -4, 4), {-2.5f, 2.5f}, 0.1f));
  unary("HardSigmoid alpha beta", "HardSigmoid", avoid_kinks(random_tensor({3, 4}, 208, -2, 2), {-0.5f, 1.5f}, 0.05f),
        {{"alpha", 0.5f}, {"beta", 0.25f}});
  unary("HardSwish", "HardSwish", avoid_kinks(random_tensor({3, 4}, 209, -5, 5), {-3.0f, 3.0f}, 0.1f));
  unary("Erf", "Erf", random_tensor({3, 4}, 210, -2, 2));
  unary("Gelu", "Gelu", random_tensor({3, 4}, 231, -3, 3));
  unary("Gelu tanh", "Gelu", random_tensor({3, 4}, 232, -3, 3), {{"approximate", std::string("tanh")}});
  unary("Sqrt", "Sqrt", random_tensor({3, 4}, 211, 0.5f, 3));
  unary("Exp", "Exp", random_tensor({3, 4}, 212, -2, 2));
  unary("Log", "Log", random_tensor({3, 4}, 213, 0.5f, 3));
  unary("Neg", "Neg", random_tensor({3, 4}, 214));
  unary("Abs", "Abs", random_tensor({3, 4}, 215, -1, 1, 0.1f));
  unary("Reciprocal", "Reciprocal", random_tensor({3, 4}, 216, -2, 2, 0.5f));
  unary("Softplus", "Softplus", random_tensor({3, 4}, 217, -4, 4));
  unary("Elu alpha 0.5", "Elu", random_tensor({3, 4}, 218, -2, 2, 0.1f), {{"alpha", 0.5f}});
  unary("Selu", "Selu", random_tensor({3, 4}, 219, -2, 2, 0.1f));
}

}  // namespace fc::test
