// [runtime] precision = "bf16" (runtime/cpu/precision.h): Conv, Gemm and MatMul, forward and
// backward, multiply operands rounded to bf16 and accumulate in fp32. Checked against the fp32
// kernels run on the same operands rounded to bf16 by ir::BFloat16 (round to nearest even): equal
// up to fp32 summation order. And against the unrounded fp32 result, so that a silent fp32 run would
// fail: bf16 rounding moves the result by far more than summation order does.
// On a CPU without AMX or AVX512-BF16 the tests skip, naming the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "ir/float_formats.h"
#include "ir/op_registry.h"
#include "ops_dnnl_test_util.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/cpu/precision.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::ir;

namespace {

using Ints = std::vector<int64_t>;
using Attrs = std::map<std::string, Attribute>;

Tensor rounded_to_bf16(const Tensor& t) {
  Tensor r(DType::F32, t.dims());
  for (size_t i = 0; i < t.numel(); ++i) r.data<float>()[i] = float(BFloat16(t.data<float>()[i]));
  return r;
}

// op(inputs) and the gradients of <dy, op(inputs)> with respect to every input, on a backend whose
// products multiply `operands`. Outputs: [y, d input 0, d input 1, ...].
std::vector<Tensor> forward_and_grads(const std::string& op, const std::vector<Tensor>& inputs, const Tensor& dy,
                                      const Attrs& attrs, DType operands) {
  Graph g;
  std::vector<Value*> ins;
  for (size_t i = 0; i < inputs.size(); ++i) ins.push_back(g.add_param("in" + std::to_string(i), inputs[i]));
  Value* y = g.add_value("y", {});
  g.add_node(op, ins, {y}, attrs, "fwd");
  infer_graph_types(g);
  passes::Gradients gr = passes::build_vjp(g, {{y, g.add_param("dy", dy)}}, ins);
  g.outputs.push_back(y);
  for (Value* v : ins) g.outputs.push_back(gr.of.at(v));
  runtime::cpu::CpuBackend cpu(2);
  cpu.set_product_operands(operands);
  runtime::Executor ex(g, cpu);
  auto out = ex.run({});
  std::vector<Tensor> r;
  for (Value* v : g.outputs) r.push_back(out.at(v->name));
  return r;
}

double relative_difference(const Tensor& a, const Tensor& b) {
  double d2 = 0, n2 = 0;
  for (size_t i = 0; i < a.numel(); ++i) {
    const double d = double(a.data<float>()[i]) - b.data<float>()[i];
    d2 += d * d;
    n2 += double(b.data<float>()[i]) * b.data<float>()[i];
  }
  return std::sqrt(d2 / std::max(n2, 1e-30));
}

// The whole check for one op whose first two inputs are multiplied (a bias is added in fp32): bf16
// products equal fp32 products of the rounded operands (the incoming gradient dy rounded too:
// backward products multiply it), and differ from fp32 ones, except the outputs listed in `sums`
// (a gradient that only sums dy, as Gemm's of C: no product, so fp32's exactly).
void check_bf16_products(const std::string& op, const std::vector<Tensor>& inputs, const Tensor& dy,
                         const Attrs& attrs, const std::vector<size_t>& sums = {}) {
  std::string note;
  if (runtime::cpu::product_operands_for("bf16", &note) != DType::BF16) GTEST_SKIP() << note;
  std::vector<Tensor> rounded = inputs;
  for (size_t i = 0; i < 2; ++i) rounded[i] = rounded_to_bf16(inputs[i]);
  const std::vector<Tensor> bf16 = forward_and_grads(op, inputs, dy, attrs, DType::BF16);
  const std::vector<Tensor> emulated = forward_and_grads(op, rounded, rounded_to_bf16(dy), attrs, DType::F32);
  const std::vector<Tensor> fp32 = forward_and_grads(op, inputs, dy, attrs, DType::F32);
  for (size_t k = 0; k < bf16.size(); ++k) {
    SCOPED_TRACE(k == 0 ? op + " output" : op + " gradient of input " + std::to_string(k - 1));
    ASSERT_EQ(bf16[k].dims(), fp32[k].dims());
    if (std::find(sums.begin(), sums.end(), k) != sums.end()) {
      EXPECT_LE(relative_difference(bf16[k], fp32[k]), 1e-6);
      continue;
    }
    EXPECT_LE(relative_difference(bf16[k], emulated[k]), 1e-5);
    // bf16 keeps 8 significant bits: rounding moves a product of random operands by ~2^-9 relative.
    const double moved = relative_difference(bf16[k], fp32[k]);
    EXPECT_GE(moved, 1e-4);
    EXPECT_LE(moved, 2e-2);
  }
}

TEST(Bf16Products, ConvForwardAndGradients) {
  std::mt19937 rng(3);
  const Tensor x = test::random_tensor({2, 6, 9, 9}, rng), w = test::random_tensor({8, 3, 3, 3}, rng);
  const Tensor b = test::random_tensor({8}, rng), dy = test::random_tensor({2, 8, 5, 5}, rng);
  // Groups, stride and padding: the layouts oneDNN chooses for bf16 differ from fp32's.
  check_bf16_products("Conv", {x, w, b}, dy,
                      {{"group", int64_t{2}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}});
}

TEST(Bf16Products, GemmWithTransposesAndBias) {
  std::mt19937 rng(4);
  const Tensor a = test::random_tensor({24, 7}, rng), bt = test::random_tensor({11, 24}, rng);
  const Tensor c = test::random_tensor({11}, rng), dy = test::random_tensor({7, 11}, rng);
  check_bf16_products("Gemm", {a, bt, c}, dy,
                      {{"transA", int64_t{1}}, {"transB", int64_t{1}}, {"alpha", 0.5f}, {"beta", 2.0f}},
                      /*sums=*/{3});
}

TEST(Bf16Products, BatchedMatMulWithBroadcast) {
  std::mt19937 rng(5);
  const Tensor a = test::random_tensor({3, 2, 5, 16}, rng), b = test::random_tensor({2, 16, 6}, rng);
  const Tensor dy = test::random_tensor({3, 2, 5, 6}, rng);
  check_bf16_products("MatMul", {a, b}, dy, {});
}

TEST(Bf16Products, Fp32IsAlwaysHonoured) {
  std::string note;
  EXPECT_EQ(runtime::cpu::product_operands_for("fp32", &note), DType::F32);
  EXPECT_TRUE(note.empty());
}

}  // namespace
