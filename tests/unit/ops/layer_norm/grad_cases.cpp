// Finite-difference cases (gradcheck.h) for LayerNormalization: axes, broadcast Scale/B, its Mean/InvStdDev
// outputs.
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_layer_norm_grad_cases) {
  cases.push_back({.label = "LayerNormalization axis -1 with Mean/InvStdDev outputs", .op = "LayerNormalization",
                   .inputs = {random_tensor({2, 3, 4}, 285, -2, 2), random_tensor({4}, 286, 0.5f, 1.5f),
                              random_tensor({4}, 287)},
                   .num_outputs = 3});
  cases.push_back({.label = "LayerNormalization axis -2", .op = "LayerNormalization",
                   .inputs = {random_tensor({2, 3, 4}, 288, -2, 2), random_tensor({3, 4}, 289, 0.5f, 1.5f),
                              random_tensor({3, 4}, 290)},
                   .attrs = {{"axis", int64_t{-2}}, {"epsilon", 1e-3f}}});
  cases.push_back({.label = "LayerNormalization axis 1, broadcast Scale [4] and B [1,4], Y only seeded",
                   .op = "LayerNormalization",
                   .inputs = {random_tensor({2, 3, 4}, 291, -2, 2), random_tensor({4}, 292, 0.5f, 1.5f),
                              random_tensor({1, 4}, 293)},
                   .attrs = {{"axis", int64_t{1}}}, .num_outputs = 3, .seeded_outputs = {0}});
  cases.push_back({.label = "LayerNormalization Y and Mean outputs (statistics recomputed)",
                   .op = "LayerNormalization",
                   .inputs = {random_tensor({3, 5}, 296, -2, 2), random_tensor({5}, 297, 0.5f, 1.5f)},
                   .num_outputs = 2});
  cases.push_back({.label = "LayerNormalization no B, Scale only", .op = "LayerNormalization",
                   .inputs = {random_tensor({3, 5}, 294, -2, 2), random_tensor({5}, 295, 0.5f, 1.5f)},
                   .check_inputs = {1}});
}

}  // namespace fc::test
