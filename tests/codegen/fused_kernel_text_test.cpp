// The fused-kernel description (ir/fused_kernel.h): its canonical text and hash, the text read back,
// validation of bad kernels, table inputs, and the loop nest's merging of dims.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ir/fused_kernel.h"
#include "codegen/jit.h"
#include "codegen/ptx.h"
#include "ir/content_hash.h"
#include "ir/float_math.h"
#include "support/error.h"
#include "ir/graph.h"
#include "ir/hyperparams.h"
#include "ir/scalar_form.h"
#include "tests/codegen/codegen_cases.h"
#include "tests/codegen/codegen_test_util.h"

namespace fc::codegen {
namespace {

TEST(FusedKernel, CanonicalTextAndHash) {
  FusedKernel k({8, 3, 4, 4});
  const int x = k.add_input({8, 3, 4, 4});
  const int b = k.add_input({1, 3, 1, 1});
  const int xv = k.load(x);  // (sequenced: argument evaluation order is unspecified)
  const int bv = k.load(b);
  k.add_output(k.relu(k.add(xv, bv)));
  EXPECT_EQ(k.to_text(),
            "fused_kernel v1\nout [8,3,4,4]\nin 0 [8,3,4,4]\nin 1 [1,3,1,1]\n%0 = load 0\n%1 = load 1\n"
            "%2 = add %0 %1\n%3 = relu %2\nout 0 %3\n");
  EXPECT_EQ(k.hash().size(), 16u);
  EXPECT_EQ(k.hash(), ir::hex64(ir::fnv1a64(k.to_text())));
  // Constants and shapes are part of the identity.
  FusedKernel c1({4}), c2({4}), c3({5});
  for (FusedKernel* c : {&c1, &c2, &c3}) c->add_input({c == &c3 ? 5 : 4});
  c1.add_output(c1.mul(c1.load(0), c1.constant(0.5f)));
  c2.add_output(c2.mul(c2.load(0), c2.constant(0.25f)));
  c3.add_output(c3.mul(c3.load(0), c3.constant(0.5f)));
  EXPECT_NE(c1.hash(), c2.hash());
  EXPECT_NE(c1.hash(), c3.hash());
  EXPECT_NE(c1.to_text().find("const 0x3f000000"), std::string::npos);
  EXPECT_EQ(ir::fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(ir::fnv1a64("a"), 0xaf63dc4c8601ec8cull);  // published FNV-1a 64 test vector
}

TEST(FusedKernel, TextRoundTrips) {
  // Every op, odd constants (negative zero, NaN bits, denormal) and several outputs.
  FusedKernel k({2, 5, 3});
  const int a = k.load(k.add_input({2, 5, 3}));
  const int b = k.load(k.add_input({5, 1}));
  const int c = k.load(k.add_input({}));
  int acc = a;
  for (float v : {-0.0f, std::bit_cast<float>(0x7fc00001u), 1e-40f, 3.25f}) acc = k.add(acc, k.constant(v));
  acc = k.leaky_relu(acc, 0.125f);
  acc = k.select(k.less(acc, b), k.fma(acc, b, c), k.unary(ScalarOp::kFloor, acc));
  k.add_output(acc);
  k.add_output(k.unary(ScalarOp::kCeil, b));
  const std::string text = k.to_text();
  const FusedKernel back = FusedKernel::from_text(text);
  EXPECT_EQ(back.to_text(), text);
  EXPECT_TRUE(back == k);
  EXPECT_EQ(back.hash(), k.hash());
  EXPECT_EQ(std::bit_cast<uint32_t>(back.instrs()[5].value), 0x7fc00001u);  // %3 const, %4 add, %5 const
  // Malformed text names the line.
  auto message = [](const std::string& t) {
    try {
      FusedKernel::from_text(t);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("fused_kernel v2\n").find("line 1"), std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\nin 0 [4]\n%0 = load 0\n%1 = frob %0\nout 0 %1\n").find("line 5"),
            std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\nin 0 [4]\n%0 = load 0\n%1 = add %0 %1\nout 0 %1\n").find("operand"),
            std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\nin 0 [4]\n%0 = const 1.0\nout 0 %0\n").find("float bits"),
            std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\nin 0 [3]\n%0 = load 0\nout 0 %0\n").find("broadcast"),
            std::string::npos);
  EXPECT_NE(message("fused_kernel v1\nout [4]\n").find("no outputs"), std::string::npos);
}

TEST(FusedKernel, ValidateRejectsBadKernels) {
  FusedKernel k({2, 3});
  k.add_input({4});
  k.add_output(k.load(0));
  EXPECT_THROW(k.validate(), Error);  // [4] does not broadcast to [2,3]
  FusedKernel none({2});
  none.add_input({2});
  none.load(0);
  EXPECT_THROW(none.validate(), Error);  // no outputs
  FusedKernel fwd({2});
  EXPECT_THROW(fwd.add(0, 1), Error);    // values that do not exist yet
  EXPECT_THROW(fwd.load(0), Error);      // no such input
  EXPECT_THROW(fwd.unary(ScalarOp::kAdd, 0), Error);
}

TEST(FusedKernel, TableInputs) {
  const FusedKernel k = table_kernel();
  EXPECT_NO_THROW(k.validate());
  EXPECT_TRUE(k.is_loaded(0));
  EXPECT_FALSE(k.is_loaded(1));
  EXPECT_NE(k.to_text().find("%1 = param 1 2"), std::string::npos) << k.to_text();
  EXPECT_TRUE(FusedKernel::from_text(k.to_text()) == k);
  EXPECT_EQ(make_loop_nest(k).strides[1], std::vector<int64_t>{0});  // the table takes no part in the nest
  EXPECT_EQ(k.arithmetic_ops(), 1);
  // An element outside the table is rejected, at build time and when read back.
  FusedKernel bad({4});
  bad.add_output(bad.param(bad.add_input({5}), 5));
  EXPECT_THROW(bad.validate(), Error);
  EXPECT_THROW(FusedKernel::from_text("fused_kernel v1\nout [4]\nin 0 [5]\n%0 = param 0 9\nout 0 %0\n"), Error);
  EXPECT_THROW(FusedKernel::from_text("fused_kernel v1\nout [4]\nin 0 [5]\n%0 = param 0\nout 0 %0\n"), Error);
  // program_of: the structure without shapes (an IR node before the batch is known).
  const FusedKernel program = FusedKernel::program_of(k.body_text(), 2);
  EXPECT_EQ(program.body_text(), k.body_text());
  EXPECT_FALSE(program.is_loaded(1));
}

TEST(FusedKernel, LoopNestMergesDims) {
  FusedKernel k({8, 3, 5, 7});
  k.add_input({8, 3, 5, 7});
  k.add_input({1, 3, 1, 1});
  k.add_input({});
  k.add_output(k.add(k.add(k.load(0), k.load(1)), k.load(2)));
  const LoopNest n = make_loop_nest(k);
  EXPECT_EQ(n.dims, (std::vector<int64_t>{8, 3, 35}));
  EXPECT_EQ(n.strides[0], (std::vector<int64_t>{105, 35, 1}));
  EXPECT_EQ(n.strides[1], (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(n.strides[2], (std::vector<int64_t>{0, 0, 0}));
  // All contiguous: one flat dim; size-1 dims vanish.
  FusedKernel flat({4, 1, 6});
  flat.add_input({4, 1, 6});
  flat.add_output(flat.load(0));
  EXPECT_EQ(make_loop_nest(flat).dims, (std::vector<int64_t>{24}));
}

}  // namespace
}  // namespace fc::codegen
