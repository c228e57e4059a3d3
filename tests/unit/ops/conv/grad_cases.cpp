// Finite-difference cases (gradcheck.h) for Conv: 1-D, 2-D, 3-D, groups, strides, dilations, pads, bias.
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_conv_grad_cases) {
  using Ints = std::vector<int64_t>;
  cases.push_back({.label = "Conv 2d pads bias", .op = "Conv",
                   .inputs = {random_tensor({2, 3, 4, 4}, 101), random_tensor({4, 3, 3, 3}, 102),
                              random_tensor({4}, 103)},
                   .attrs = {{"pads", Ints{1, 1, 1, 1}}}});
  cases.push_back({.label = "Conv groups strides dilations asymmetric pads", .op = "Conv",
                   .inputs = {random_tensor({1, 4, 6, 5}, 104), random_tensor({4, 2, 2, 2}, 105)},
                   .attrs = {{"group", int64_t{2}}, {"strides", Ints{2, 1}}, {"dilations", Ints{1, 2}},
                             {"pads", Ints{0, 1, 1, 0}}}});
  cases.push_back({.label = "Conv 1d depthwise SAME_UPPER stride 2", .op = "Conv",
                   .inputs = {random_tensor({2, 3, 7}, 106), random_tensor({3, 1, 3}, 107), random_tensor({3}, 108)},
                   .attrs = {{"group", int64_t{3}}, {"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2}}}});
  cases.push_back({.label = "Conv 3d", .op = "Conv",
                   .inputs = {random_tensor({1, 2, 3, 3, 3}, 109), random_tensor({2, 2, 2, 2, 2}, 110)}});
  cases.push_back({.label = "Conv bias only", .op = "Conv",
                   .inputs = {random_tensor({2, 2, 3, 3}, 111), random_tensor({3, 2, 2, 2}, 112),
                              random_tensor({3}, 113)},
                   .check_inputs = {2}});
}

}  // namespace fc::test
