// Finite-difference cases (gradcheck.h) for fc.Attention: no mask, boolean masks of both senses, an
// additive mask with -inf.
#include <cmath>

#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_attention_grad_cases) {
  using ir::Tensor;
  {  // fused attention: q [2, T, 3], kt [2, 3, S], v [2, S, 4]; y seeded (lse has no gradient)
    auto bool_mask = [](int64_t t, int64_t s, bool keep_lower) {
      Tensor m(ir::DType::Bool, {t, s});
      for (int64_t r = 0; r < t; ++r)
        for (int64_t c = 0; c < s; ++c) m.data<bool>()[r * s + c] = (c <= r) == keep_lower;
      return m;
    };
    auto attention = [&](std::string label, int64_t t, int64_t s, Tensor mask, int64_t keep, uint64_t seed) {
      cases.push_back({.label = "Attention " + label, .op = "Attention", .domain = "fc",
                       .inputs = {random_tensor({2, t, 3}, seed, -1.5f, 1.5f), random_tensor({2, 3, s}, seed + 1),
                                  random_tensor({2, s, 4}, seed + 2), Tensor::scalar<float>(0.7f), mask},
                       .attrs = {{"mask_keep", keep}}, .num_outputs = 2, .check_inputs = {0, 1, 2},
                       .seeded_outputs = {0}});
    };
    attention("no mask, S != T", 3, 5, Tensor(), 0, 300);
    attention("causal bool mask (true excludes)", 5, 5, bool_mask(5, 5, false), 0, 303);
    attention("causal bool mask (true keeps)", 5, 5, bool_mask(5, 5, true), 1, 306);
    Tensor bias = random_tensor({1, 4, 4}, 309);
    bias.data<float>()[3] = -INFINITY;
    attention("additive f32 mask with -inf", 4, 4, bias, 0, 310);
  }
}

}  // namespace fc::test
