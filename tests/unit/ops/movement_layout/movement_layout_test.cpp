// Transpose, Slice, Pad, Concat, Split, Expand and Tile against hand-computed values and naive
// index-by-index reference loops written here, for 1-, 4- and 8-byte element types, empty and
// size-1 dims, negative axes, symbolic shape inference and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "ops_movement_test_util.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"
#include "support/error.h"

using namespace fc;
using namespace fc::test;
using namespace fc::test::movement;

namespace {

// ---- Transpose ----

// Checks y = transpose(x, perm) element by element for a position-coded x of type T.
template <typename T>
void check_transpose(const Dims& dims, const Ints& perm) {
  SCOPED_TRACE(::testing::PrintToString(dims) + " perm " + ::testing::PrintToString(perm));
  Tensor x = iota<T>(dims);
  Tensor y = run1("Transpose", {x}, {{"perm", perm}});
  Dims out;
  for (int64_t p : perm) out.push_back(dims[p]);
  ASSERT_EQ(y.dims(), out);
  int bad = 0;
  for (int64_t o = 0; o < numel(out); ++o) {
    const Dims oi = unravel(o, out);
    Dims xi(dims.size());
    for (size_t i = 0; i < perm.size(); ++i) xi[perm[i]] = oi[i];
    if (y.data<T>()[o] != static_cast<T>(ravel(xi, dims)) && ++bad < 5) ADD_FAILURE() << "element " << o;
  }
  EXPECT_EQ(bad, 0);
}

TEST(MovementTranspose, AllPermutationsOfRank4) {
  Ints perm{0, 1, 2, 3};
  do {
    check_transpose<float>({2, 3, 4, 5}, perm);
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(MovementTranspose, ElementSizesAndShapes) {
  check_transpose<int64_t>({3, 5}, {1, 0});
  check_transpose<double>({2, 3, 4}, {2, 0, 1});
  check_transpose<uint8_t>({7, 9, 2}, {1, 2, 0});  // values wrap at 256; still position-coded mod 256
  check_transpose<int32_t>({1, 6, 1, 4}, {3, 2, 1, 0});
  check_transpose<float>({67, 129}, {1, 0});         // partial 32x32 tiles
  check_transpose<float>({300, 257}, {1, 0});        // above the parallel threshold
  check_transpose<float>({4, 16, 9, 11}, {0, 2, 3, 1});  // NCHW -> NHWC
  check_transpose<float>({4, 9, 11, 16}, {0, 3, 1, 2});  // NHWC -> NCHW
  check_transpose<float>({0, 3}, {1, 0});
  check_transpose<float>({5}, {0});
}

TEST(MovementTranspose, DefaultReversesAndErrors) {
  Tensor y = run1("Transpose", {iota<float>({2, 3, 4})});
  ASSERT_EQ(y.dims(), (Dims{4, 3, 2}));
  EXPECT_EQ(y.data<float>()[1], 12.0f);  // y[0,0,1] = x[1,0,0]
  EXPECT_EQ(y.data<float>()[2], 4.0f);   // y[0,1,0] = x[0,1,0]
  Tensor x = iota<float>({2, 3});
  EXPECT_THROW(run1("Transpose", {x}, {{"perm", Ints{0, 0}}}), Error);
  EXPECT_THROW(run1("Transpose", {x}, {{"perm", Ints{0}}}), Error);
  EXPECT_THROW(run1("Transpose", {x}, {{"perm", Ints{0, 2}}}), Error);
  EXPECT_EQ(inferred("Transpose", {f32({N(), K(3), K(4)})}, {{"perm", Ints{0, 2, 1}}}), "f32[N,4,3]");
  EXPECT_EQ(inferred("Transpose", {f32({N(), K(3)})}, {{"perm", Ints{-1, 0}}}), "f32[3,N]");
}

// ---- Slice ----

std::vector<float> slice1d(int64_t n, Ints starts, Ints ends, Ints steps) {
  return values<float>(run1("Slice", {iota<float>({n})}, {{"starts", starts}, {"ends", ends}, {"steps", steps}}));
}

TEST(MovementSlice, OneDimensionalCases) {
  const int64_t kMax = INT64_MAX, kMin = INT64_MIN;
  using V = std::vector<float>;
  EXPECT_EQ(slice1d(10, {2}, {5}, {1}), (V{2, 3, 4}));
  EXPECT_EQ(slice1d(10, {-3}, {kMax}, {1}), (V{7, 8, 9}));
  EXPECT_EQ(slice1d(10, {1}, {100}, {3}), (V{1, 4, 7}));                  // end clamped
  EXPECT_EQ(slice1d(10, {-100}, {2}, {1}), (V{0, 1}));                    // start clamped
  EXPECT_EQ(slice1d(10, {-1}, {kMin}, {-1}), (V{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(slice1d(10, {8}, {1}, {-3}), (V{8, 5, 2}));
  EXPECT_EQ(slice1d(10, {100}, {-100}, {-4}), (V{9, 5, 1}));              // start clamped to 9
  EXPECT_EQ(slice1d(10, {5}, {5}, {1}), V{});
  EXPECT_EQ(slice1d(10, {7}, {3}, {1}), V{});
  EXPECT_EQ(slice1d(10, {3}, {7}, {-1}), V{});
  EXPECT_EQ(slice1d(0, {0}, {kMax}, {1}), V{});
  EXPECT_EQ(slice1d(1, {0}, {kMax}, {-1}), V{});
  EXPECT_EQ(slice1d(1, {0}, {kMin}, {-1}), (V{0}));
}

TEST(MovementSlice, AxesStepsAndTypes) {
  // x[:, 1::2, ::-1] of x: [2, 4, 3]; y[i, j, k] = x[i, 1 + 2j, 2 - k].
  Tensor x = iota<int64_t>({2, 4, 3});
  Tensor y = run1("Slice", {x},
                  {{"starts", Ints{1, -1}}, {"ends", Ints{INT64_MAX, INT64_MIN}}, {"axes", Ints{1, -1}},
                   {"steps", Ints{2, -1}}});
  std::vector<int64_t> want;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k) want.push_back(i * 12 + (1 + 2 * j) * 3 + (2 - k));
  expect_tensor<int64_t>(y, {2, 2, 3}, want);
  // Axes absent: the first len(starts) axes; bool data.
  Tensor b = math::bools({2, 2}, {true, false, false, true});
  expect_tensor<bool>(run1("Slice", {b}, {{"starts", Ints{1, 0}}, {"ends", Ints{2, 1}}}), {1, 1}, {false});
}

TEST(MovementSlice, SymbolicAndErrors) {
  std::map<std::string, Attribute> a{{"starts", Ints{1}}, {"ends", Ints{-1}}, {"axes", Ints{1}}};
  EXPECT_EQ(inferred("Slice", {f32({N(), K(10)})}, a), "f32[N,8]");
  EXPECT_EQ(inferred("Slice", {f32({N(), K(10)})}, {{"starts", Ints{0}}, {"ends", Ints{2}}}), "f32[?,10]");
  EXPECT_EQ(inferred("Slice", {f32({N(), K(10)})}, {{"starts", Ints{0}}, {"ends", Ints{INT64_MAX}}}), "f32[N,10]");
  Tensor x = iota<float>({4, 4});
  EXPECT_THROW(run1("Slice", {x}, {{"starts", Ints{0}}, {"ends", Ints{2}}, {"steps", Ints{0}}}), Error);
  EXPECT_THROW(run1("Slice", {x}, {{"starts", Ints{0}}, {"ends", Ints{2, 3}}}), Error);
  EXPECT_THROW(run1("Slice", {x}, {{"starts", Ints{0}}, {"ends", Ints{2}}, {"axes", Ints{2}}}), Error);
  EXPECT_THROW(run1("Slice", {x}, {{"starts", Ints{0, 0}}, {"ends", Ints{2, 2}}, {"axes", Ints{1, -1}}}), Error);
  EXPECT_THROW(run1("Slice", {x}, {{"ends", Ints{2}}}), Error);
}

// ---- Pad ----

std::vector<float> pad1d(std::vector<float> x, Ints pads, const std::string& mode, float value = 0) {
  Tensor t = Tensor::from_vector<float>({static_cast<int64_t>(x.size())}, x);
  return values<float>(run1("Pad", {t}, {{"pads", pads}, {"mode", mode}, {"value", value}}));
}

TEST(MovementPad, OneDimensionalModes) {
  using V = std::vector<float>;
  EXPECT_EQ(pad1d({1, 2, 3}, {2, 1}, "constant", 9), (V{9, 9, 1, 2, 3, 9}));
  EXPECT_EQ(pad1d({1, 2, 3}, {2, 2}, "reflect"), (V{3, 2, 1, 2, 3, 2, 1}));
  EXPECT_EQ(pad1d({1, 2, 3}, {2, 2}, "edge"), (V{1, 1, 1, 2, 3, 3, 3}));
  EXPECT_EQ(pad1d({1, 2, 3}, {5, 0}, "reflect"), (V{2, 1, 2, 3, 2, 1, 2, 3}));  // reflects repeatedly
  EXPECT_EQ(pad1d({4}, {2, 1}, "reflect"), (V{4, 4, 4, 4}));
  EXPECT_EQ(pad1d({1, 2, 3, 4}, {-1, -2}, "constant"), (V{2}));                 // crop
  EXPECT_EQ(pad1d({1, 2, 3, 4}, {-1, 2}, "edge"), (V{2, 3, 4, 4, 4}));          // crop, then pad
  EXPECT_EQ(pad1d({1, 2, 3, 4}, {1, -3}, "reflect"), (V{1, 1}));               // kept [1]: n = 1
  EXPECT_EQ(pad1d({1, 2}, {0, 0}, "reflect"), (V{1, 2}));
}

TEST(MovementPad, TwoDimensional) {
  // x = [[1,2,3],[4,5,6]], pads x1: (1, 1), x2: (2, 2).
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Ints pads{1, 2, 1, 2};
  const std::vector<float> r0{3, 2, 1, 2, 3, 2, 1}, r1{6, 5, 4, 5, 6, 5, 4};
  std::vector<float> want;
  for (const auto* row : {&r1, &r0, &r1, &r0}) want.insert(want.end(), row->begin(), row->end());
  expect_tensor<float>(run1("Pad", {x}, {{"pads", pads}, {"mode", std::string("reflect")}}), {4, 7}, want);
  Tensor e = run1("Pad", {Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4})},
                  {{"pads", Ints{1, 1, 1, 1}}, {"mode", std::string("edge")}});
  expect_tensor<float>(e, {4, 4}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // Constant, i64, a pad on the leading axis only.
  Tensor c = run1("Pad", {iota<int64_t>({1, 2}, 1)}, {{"pads", Ints{1, 0, 0, 1}}, {"value", 7.0f}});
  expect_tensor<int64_t>(c, {2, 3}, {7, 7, 7, 1, 2, 7});
}

// Wrap (numpy's np.pad mode "wrap"): the kept part repeats; with a crop, the cropped part is what repeats.
TEST(MovementPad, WrapRepeatsTheKeptExtent) {
  Tensor x = iota<float>({2, 3});  // [[0 1 2] [3 4 5]]
  expect_tensor<float>(run1("Pad", {x}, {{"pads", Ints{0, 2, 0, 1}}, {"mode", std::string("wrap")}}), {2, 6},
                       {1, 2, 0, 1, 2, 0, 4, 5, 3, 4, 5, 3});
  // Crop the first column, then wrap 4 on the right: the kept columns [1 2] repeat.
  expect_tensor<float>(run1("Pad", {x}, {{"pads", Ints{1, -1, 0, 4}}, {"mode", std::string("wrap")}}), {3, 6},
                       {4, 5, 4, 5, 4, 5, 1, 2, 1, 2, 1, 2, 4, 5, 4, 5, 4, 5});
}

// Naive reference for edge padding of a 3-D tensor: every output element clamps into x.
TEST(MovementPad, EdgeMatchesNaiveReference3D) {
  const Dims dims{3, 4, 5};
  const Ints pads{2, 0, 3, 1, 2, -1};
  Tensor x = iota<float>(dims);
  Tensor y = run1("Pad", {x}, {{"pads", pads}, {"mode", std::string("edge")}});
  const Dims out{6, 6, 7};
  ASSERT_EQ(y.dims(), out);
  for (int64_t o = 0; o < numel(out); ++o) {
    Dims i = unravel(o, out);
    for (size_t d = 0; d < 3; ++d) {
      const int64_t lo = std::max<int64_t>(0, -pads[d]), hi = dims[d] - 1 - std::max<int64_t>(0, -pads[d + 3]);
      i[d] = std::clamp(i[d] - pads[d], lo, hi);
    }
    ASSERT_EQ(y.data<float>()[o], float(ravel(i, dims))) << "element " << o;
  }
}

TEST(MovementPad, SymbolicAndErrors) {
  EXPECT_EQ(inferred("Pad", {f32({N(), K(3), K(4)})}, {{"pads", Ints{0, 1, 1, 0, 1, 1}}}), "f32[N,5,6]");
  EXPECT_EQ(inferred("Pad", {f32({N(), K(3)})}, {{"pads", Ints{1, 0, 0, 0}}}), "f32[?,3]");
  Tensor x = iota<float>({2, 2});
  EXPECT_THROW(run1("Pad", {x}, {{"pads", Ints{1, 1}}}), Error);
  EXPECT_THROW(run1("Pad", {x}, {{"pads", Ints{0, 0, 0, 0}}, {"mode", std::string("circular")}}), Error);
  EXPECT_THROW(run1("Pad", {x}, {{"pads", Ints{-3, 0, 1, 0}}}), Error);  // crops more than there is
  EXPECT_THROW(run1("Pad", {iota<float>({0, 2})}, {{"pads", Ints{1, 0, 0, 0}}, {"mode", std::string("edge")}}),
               Error);
}

// ---- Concat / Split ----

TEST(MovementConcat, AxesTypesAndEmptyInputs) {
  Tensor a = iota<float>({2, 2}), b = iota<float>({2, 3}, 10), e = iota<float>({2, 0});
  expect_tensor<float>(run1("Concat", {a, e, b}, {{"axis", int64_t{1}}}), {2, 5}, {0, 1, 10, 11, 12, 2, 3, 13, 14, 15});
  expect_tensor<float>(run1("Concat", {a, b}, {{"axis", int64_t{-1}}}), {2, 5}, {0, 1, 10, 11, 12, 2, 3, 13, 14, 15});
  Tensor c = iota<int64_t>({1, 2}, 5);
  expect_tensor<int64_t>(run1("Concat", {iota<int64_t>({2, 2}), c}, {{"axis", int64_t{0}}}), {3, 2}, {0, 1, 2, 3, 5, 6});
  expect_tensor<int64_t>(run1("Concat", {c}, {{"axis", int64_t{0}}}), {1, 2}, {5, 6});
  expect_tensor<bool>(run1("Concat", {math::bools({1}, {true}), math::bools({2}, {false, true})}, {{"axis", int64_t{0}}}),
                      {3}, {true, false, true});
}

TEST(MovementConcat, SymbolicAndErrors) {
  EXPECT_EQ(inferred("Concat", {f32({N(), K(2)}), f32({N(), K(3)})}, {{"axis", int64_t{1}}}), "f32[N,5]");
  EXPECT_EQ(inferred("Concat", {f32({N(), K(2)}), f32({K(4), K(2)})}, {{"axis", int64_t{0}}}), "f32[?,2]");
  EXPECT_EQ(inferred("Concat", {f32({N(), K(2)}), f32({K(0), K(2)})}, {{"axis", int64_t{0}}}), "f32[N,2]");
  Tensor a = iota<float>({2, 2});
  EXPECT_THROW(run1("Concat", {a, iota<float>({3, 3})}, {{"axis", int64_t{0}}}), Error);
  EXPECT_THROW(run1("Concat", {a, iota<int64_t>({2, 2})}, {{"axis", int64_t{0}}}), Error);
  EXPECT_THROW(run1("Concat", {a, a}, {{"axis", int64_t{2}}}), Error);
  EXPECT_THROW(run1("Concat", {a, a}), Error);  // axis is required
}

TEST(MovementSplit, PartsAndSizes) {
  Tensor x = iota<float>({2, 6});
  OpRun r = run_op("Split", {x}, {{"axis", int64_t{1}}}, 3);
  expect_tensor<float>(r.outputs[0], {2, 2}, {0, 1, 6, 7});
  expect_tensor<float>(r.outputs[2], {2, 2}, {4, 5, 10, 11});
  r = run_op("Split", {x}, {{"axis", int64_t{-1}}, {"split", Ints{1, 0, 5}}}, 3);
  expect_tensor<float>(r.outputs[0], {2, 1}, {0, 6});
  expect_tensor<float>(r.outputs[1], {2, 0}, {});
  expect_tensor<float>(r.outputs[2], {2, 5}, {1, 2, 3, 4, 5, 7, 8, 9, 10, 11});
  r = run_op("Split", {iota<int64_t>({4})}, {}, 2);
  expect_tensor<int64_t>(r.outputs[1], {2}, {2, 3});
  // Split then Concat is the identity on a larger tensor.
  Tensor big = iota<float>({3, 50, 7});
  r = run_op("Split", {big}, {{"axis", int64_t{1}}, {"split", Ints{17, 33}}}, 2);
  Tensor back = run1("Concat", {r.outputs[0], r.outputs[1]}, {{"axis", int64_t{1}}});
  EXPECT_EQ(values<float>(back), values<float>(big));
}

TEST(MovementSplit, SymbolicAndErrors) {
  auto t = infer_types("Split", {f32({N(), K(6)})}, {{"axis", int64_t{1}}}, 2);
  EXPECT_EQ(ir::to_string(t[0]), "f32[N,3]");
  t = infer_types("Split", {f32({N(), K(6)})}, {{"axis", int64_t{0}}}, 2);
  EXPECT_EQ(ir::to_string(t[1]), "f32[?,6]");
  t = infer_types("Split", {f32({N(), K(6)})}, {{"split", Ints{2, 5}}}, 2);
  EXPECT_EQ(ir::to_string(t[1]), "f32[5,6]");
  Tensor x = iota<float>({5});
  EXPECT_THROW(run_op("Split", {x}, {}, 2), Error);                              // 5 is not even
  EXPECT_THROW(run_op("Split", {x}, {{"split", Ints{2, 2}}}, 2), Error);         // sums to 4
  EXPECT_THROW(run_op("Split", {x}, {{"split", Ints{5}}}, 2), Error);            // one size, two outputs
  EXPECT_THROW(run_op("Split", {x}, {{"axis", int64_t{1}}}, 1), Error);
}

// ---- Expand / Tile ----

TEST(MovementExpand, BidirectionalBroadcast) {
  expect_tensor<float>(run1("Expand", {iota<float>({3, 1})}, {{"shape", Ints{2, 3, 2}}}), {2, 3, 2},
                       {0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2});
  // shape smaller than the input: [3, 2] with shape [2, 1, 1] -> [2, 3, 2].
  Tensor y = run1("Expand", {iota<int64_t>({3, 2})}, {{"shape", Ints{2, 1, 1}}});
  expect_tensor<int64_t>(y, {2, 3, 2}, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5});
  expect_tensor<float>(run1("Expand", {iota<float>({2})}, {{"shape", Ints{1}}}), {2}, {0, 1});
  expect_tensor<float>(run1("Expand", {Tensor::scalar<float>(4)}, {{"shape", Ints{2, 2}}}), {2, 2}, {4, 4, 4, 4});
  expect_tensor<float>(run1("Expand", {iota<float>({1, 3})}, {{"shape", Ints{0, 3}}}), {0, 3}, {});
  EXPECT_THROW(run1("Expand", {iota<float>({3})}, {{"shape", Ints{2}}}), Error);
  EXPECT_EQ(inferred("Expand", {f32({N(), K(1)})}, {{"shape", Ints{1, 4}}}), "f32[N,4]");
}

TEST(MovementTile, MatchesNaiveReference) {
  expect_tensor<float>(run1("Tile", {iota<float>({2, 2})}, {{"repeats", Ints{1, 2}}}), {2, 4}, {0, 1, 0, 1, 2, 3, 2, 3});
  const Dims dims{2, 3, 4};
  const Ints reps{3, 1, 2};
  Tensor y = run1("Tile", {iota<int64_t>(dims)}, {{"repeats", reps}});
  const Dims out{6, 3, 8};
  ASSERT_EQ(y.dims(), out);
  for (int64_t o = 0; o < numel(out); ++o) {
    Dims i = unravel(o, out);
    for (size_t d = 0; d < 3; ++d) i[d] %= dims[d];
    ASSERT_EQ(y.data<int64_t>()[o], ravel(i, dims)) << "element " << o;
  }
  expect_tensor<float>(run1("Tile", {iota<float>({2})}, {{"repeats", Ints{0}}}), {0}, {});
  EXPECT_THROW(run1("Tile", {iota<float>({2})}, {{"repeats", Ints{1, 1}}}), Error);
  EXPECT_EQ(inferred("Tile", {f32({N(), K(3)})}, {{"repeats", Ints{1, 2}}}), "f32[N,6]");
  EXPECT_EQ(inferred("Tile", {f32({N(), K(3)})}, {{"repeats", Ints{2, 1}}}), "f32[?,3]");
}

// A rough speed check of the tiled transpose, best of a few runs with kernels already built
// (reported, not asserted: machines differ).
TEST(MovementTranspose, LastTwoDimsSwapSpeed) {
  ir::Graph g;
  ir::Value* x = g.add_value("x", TensorType(DType::F32, {K(8), K(512), K(512)}));
  ir::Value* y = g.add_value("y", {});
  g.inputs = {x};
  g.add_node("Transpose", {x}, {y}, {{"perm", Ints{0, 2, 1}}});
  g.outputs = {y};
  ir::infer_graph_types(g);
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  Tensor in = iota<float>({8, 512, 512});
  double best = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    auto out = ex.run({{"x", in}});
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    EXPECT_EQ(out.at("y").data<float>()[1], 512.0f);
  }
  std::cout << "[ NOTE     ] transpose f32[8,512,512] (0,2,1), 1 thread: " << best * 1e3 << " ms, "
            << 2.0 * in.nbytes() / best / 1e9 << " GB/s (incl. output allocation)\n";
}

}  // namespace
