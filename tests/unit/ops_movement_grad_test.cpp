// Gradient rules of the data-movement ops. Every one of these ops is linear, y = A x, so its
// gradient rule must build the adjoint: for random x and seed R, <R, A x> = <A^T R, x>. The check
// runs the forward op and autodiff's vector-Jacobian product in one graph and compares both sides
// in double. Hand-computed gradients and a symbolic-batch graph complete it.
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"
#include "support/error.h"
#include "ops_movement_test_util.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

using namespace fc;
using namespace fc::test;
using namespace fc::test::movement;

namespace {

double at(const Tensor& t, size_t i) {
  return t.dtype() == DType::F64 ? t.data<double>()[i] : double(t.data<float>()[i]);
}

double dot(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.dims(), b.dims());
  double s = 0;
  for (size_t i = 0; i < a.numel() && i < b.numel(); ++i) s += at(a, i) * at(b, i);
  return s;
}

struct AdjointCase {
  std::string op;
  std::vector<Dims> inputs;  // f32 parameters with random values
  std::map<std::string, Attribute> attrs;
  int num_outputs = 1;
  std::vector<int> seeded;   // outputs with a gradient (empty: all)
  DType input_type = DType::F32;
};

Tensor random_of(const Dims& dims, uint64_t seed, DType t) {
  Tensor f = random_tensor(dims, seed);
  if (t == DType::F32) return f;
  Tensor d(DType::F64, dims);
  for (size_t i = 0; i < f.numel(); ++i) d.data<double>()[i] = f.data<float>()[i];
  return d;
}

// Runs the case and returns the gradients (input order); checks <R, y> = <dx, x>.
std::vector<Tensor> check_adjoint(const AdjointCase& c) {
  SCOPED_TRACE(c.op + " " + ::testing::PrintToString(c.inputs));
  ir::Graph g;
  std::vector<ir::Value*> xs, ys;
  std::vector<Tensor> x_values;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    x_values.push_back(random_of(c.inputs[i], 10 + i, c.input_type));
    xs.push_back(g.add_param("x" + std::to_string(i), x_values.back()));
  }
  for (int k = 0; k < c.num_outputs; ++k) ys.push_back(g.add_value("y" + std::to_string(k), {}));
  g.add_node(c.op, xs, ys, c.attrs, "op");
  ir::infer_graph_types(g);
  std::vector<int> seeded = c.seeded;
  if (seeded.empty())
    for (int k = 0; k < c.num_outputs; ++k) seeded.push_back(k);
  std::vector<std::pair<ir::Value*, ir::Value*>> seeds;
  std::vector<Tensor> r_values;
  for (int k : seeded) {
    r_values.push_back(random_of(ys[k]->type.sizes(), 100 + k, ys[k]->type.dtype));
    seeds.emplace_back(ys[k], g.add_param("r" + std::to_string(k), r_values.back()));
  }
  passes::Gradients grads = passes::build_vjp(g, seeds, xs);
  g.outputs = ys;
  for (ir::Value* x : xs) g.outputs.push_back(grads.of.at(x));
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  auto out = ex.run({});
  double lhs = 0, rhs = 0;
  for (size_t s = 0; s < seeded.size(); ++s) lhs += dot(out.at(ys[seeded[s]]->name), r_values[s]);
  std::vector<Tensor> dxs;
  for (size_t i = 0; i < xs.size(); ++i) {
    dxs.push_back(out.at(grads.of.at(xs[i])->name));
    EXPECT_EQ(dxs.back().dims(), c.inputs[i]);
    rhs += dot(dxs.back(), x_values[i]);
  }
  EXPECT_NEAR(lhs, rhs, 1e-5 * (std::abs(lhs) + 1.0));
  return dxs;
}

TEST(MovementGrad, AdjointsOfViews) {
  check_adjoint({"Reshape", {{2, 3, 4}}, {{"shape", Ints{0, -1}}}});
  check_adjoint({"Flatten", {{2, 3, 4}}, {{"axis", int64_t{2}}}});
  check_adjoint({"Squeeze", {{3, 1, 2}}});
  check_adjoint({"Unsqueeze", {{3, 2}}, {{"axes", Ints{0, -1}}}});
  check_adjoint({"Identity", {{4}}});
  check_adjoint({"Dropout", {{2, 5}}, {{"ratio", 0.3f}}, 2, {0}});
}

TEST(MovementGrad, AdjointsOfLayoutOps) {
  check_adjoint({"Transpose", {{2, 3, 4}}, {{"perm", Ints{1, 2, 0}}}});
  check_adjoint({"Transpose", {{5, 3}}});
  check_adjoint({"Slice", {{4, 6}}, {{"starts", Ints{1, -4}}, {"ends", Ints{3, INT64_MAX}}}});
  check_adjoint({"Slice", {{4, 6}}, {{"starts", Ints{2}}, {"ends", Ints{100}}, {"axes", Ints{-1}}}});
  // Strided: steps 2 and 3 ending short of the input, negative steps, an axis taking nothing.
  check_adjoint({"Slice", {{6}}, {{"starts", Ints{0}}, {"ends", Ints{6}}, {"steps", Ints{2}}}});
  check_adjoint({"Slice", {{2, 7, 8}}, {{"starts", Ints{1, 0}}, {"ends", Ints{INT64_MAX, 7}}, {"axes", Ints{1, 2}},
                                        {"steps", Ints{2, 3}}}});
  check_adjoint({"Slice", {{3, 9}}, {{"starts", Ints{-2}}, {"ends", Ints{0}}, {"axes", Ints{1}}, {"steps", Ints{-2}}}});
  check_adjoint({"Slice", {{4, 5}}, {{"starts", Ints{-1, 3}}, {"ends", Ints{INT64_MIN, 3}}, {"steps", Ints{-1, 2}}}});
  check_adjoint({"Pad", {{3, 4}}, {{"pads", Ints{1, 0, 2, 3}}}});
  check_adjoint({"Pad", {{3, 4}}, {{"pads", Ints{-1, 2, 1, -2}}}});  // crop and pad
  check_adjoint({"Concat", {{2, 3}, {2, 1}, {2, 2}}, {{"axis", int64_t{-1}}}});
  check_adjoint({"Split", {{6, 2}}, {}, 3});
  check_adjoint({"Split", {{2, 5}}, {{"axis", int64_t{1}}, {"split", Ints{1, 4}}}, 2, {1}});  // output 0 unused
  check_adjoint({"Expand", {{3, 1}}, {{"shape", Ints{2, 3, 4}}}});
  check_adjoint({"Cast", {{3}}, {{"to", std::string("f64")}}});
  check_adjoint({"Cast", {{2, 2}}, {{"to", std::string("f32")}}, 1, {}, DType::F64});
}

TEST(MovementGrad, HandComputed) {
  // Slice x[1:3] of [5]: the gradient scatters R into positions 1 and 2.
  std::vector<Tensor> d = check_adjoint({"Slice", {{5}}, {{"starts", Ints{1}}, {"ends", Ints{3}}}});
  const Tensor r = random_tensor({2}, 100);
  EXPECT_EQ(values<float>(d[0]), (std::vector<float>{0, r.data<float>()[0], r.data<float>()[1], 0, 0}));
  // Expand [2,1] -> [2,3]: the gradient sums each row of R.
  d = check_adjoint({"Expand", {{2, 1}}, {{"shape", Ints{2, 3}}}});
  const Tensor r2 = random_tensor({2, 3}, 100);
  const float* rp = r2.data<float>();
  EXPECT_NEAR(d[0].data<float>()[0], rp[0] + rp[1] + rp[2], 1e-6);
  EXPECT_NEAR(d[0].data<float>()[1], rp[3] + rp[4] + rp[5], 1e-6);
}

TEST(MovementGrad, UnsupportedCasesSayWhy) {
  EXPECT_THROW(check_adjoint({"Pad", {{3}}, {{"pads", Ints{1, 1}}, {"mode", std::string("edge")}}}), Error);
}

// Flatten inside a batch-symbolic graph: y = Flatten(x + p), x: [N, 2, 3], p: [2, 3]. The gradient
// graph keeps N symbolic and dp = sum over the batch of R viewed as [N, 2, 3].
TEST(MovementGrad, SymbolicBatchThroughFlatten) {
  ir::Graph g;
  ir::Value* x = g.add_value("x", TensorType(DType::F32, {N(), K(2), K(3)}));
  ir::Value* r = g.add_value("r", TensorType(DType::F32, {N(), K(6)}));
  g.inputs = {x, r};
  ir::Value* p = g.add_param("p", random_tensor({2, 3}, 1));
  ir::Value* z = g.add_value("z", {});
  ir::Value* y = g.add_value("y", {});
  g.add_node("Add", {x, p}, {z});
  g.add_node("Flatten", {z}, {y});
  ir::infer_graph_types(g);
  passes::Gradients grads = passes::build_vjp(g, {{y, r}}, {p});
  ir::Value* dp = grads.of.at(p);
  EXPECT_EQ(ir::to_string(dp->type), "f32[2,3]");
  bool saw_reshape = false;
  for (const auto& n : g.nodes())
    if (n->op == "Reshape") {
      saw_reshape = true;
      EXPECT_EQ(ir::to_string(n->outputs[0]->type), "f32[N,2,3]");
    }
  EXPECT_TRUE(saw_reshape);
  g.outputs = {dp};
  runtime::cpu::CpuBackend cpu(1);
  runtime::Executor ex(g, cpu);
  Tensor rv = random_tensor({4, 6}, 2);
  auto out = ex.run({{"x", random_tensor({4, 2, 3}, 3)}, {"r", rv}});
  for (int j = 0; j < 6; ++j) {
    double want = 0;
    for (int b = 0; b < 4; ++b) want += rv.data<float>()[b * 6 + j];
    EXPECT_NEAR(out.at(dp->name).data<float>()[j], want, 1e-5);
  }
}

}  // namespace
