// Finite-difference cases (gradcheck.h) for the pools. Max-pool inputs are well-separated values
// (distinct_values), so no window has a near-tie for its maximum that a step could flip.
#include "gradcheck.h"

namespace fc::test {

FC_GRAD_CASES(add_pool_grad_cases) {
  using Ints = std::vector<int64_t>;
  cases.push_back({.label = "MaxPool 2d pads ceil_mode", .op = "MaxPool", .inputs = {distinct_values({{1, 2, 5, 5}}, 114)[0]},
                   .attrs = {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 0, 1, 1}},
                             {"ceil_mode", int64_t{1}}},
                   .step = 1e-3});
  cases.push_back({.label = "MaxPool 1d dilation", .op = "MaxPool", .inputs = {distinct_values({{2, 2, 9}}, 115)[0]},
                   .attrs = {{"kernel_shape", Ints{2}}, {"dilations", Ints{3}}, {"strides", Ints{2}}},
                   .step = 1e-3});
  cases.push_back({.label = "MaxPool 3d overlapping", .op = "MaxPool", .inputs = {distinct_values({{1, 1, 3, 4, 4}}, 116)[0]},
                   .attrs = {{"kernel_shape", Ints{2, 2, 2}}}, .step = 1e-3});
  cases.push_back({.label = "AveragePool count_include_pad ceil_mode", .op = "AveragePool",
                   .inputs = {random_tensor({1, 2, 6, 5}, 117)},
                   .attrs = {{"kernel_shape", Ints{3, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 0}},
                             {"ceil_mode", int64_t{1}}, {"count_include_pad", int64_t{1}}}});
  cases.push_back({.label = "AveragePool exclude pad ceil_mode", .op = "AveragePool",
                   .inputs = {random_tensor({1, 2, 6, 5}, 118)},
                   .attrs = {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 0, 0, 1}},
                             {"ceil_mode", int64_t{1}}}});
  cases.push_back({.label = "AveragePool 1d SAME_LOWER", .op = "AveragePool", .inputs = {random_tensor({2, 2, 7}, 119)},
                   .attrs = {{"kernel_shape", Ints{4}}, {"strides", Ints{3}}, {"auto_pad", std::string("SAME_LOWER")}}});
  cases.push_back({.label = "GlobalAveragePool", .op = "GlobalAveragePool", .inputs = {random_tensor({2, 3, 3, 2}, 120)}});
  cases.push_back({.label = "GlobalMaxPool", .op = "GlobalMaxPool", .inputs = {distinct_values({{2, 3, 3, 2}}, 121)[0]},
                   .step = 1e-3});
}

}  // namespace fc::test
