// The adjoint check of the data-movement ops' gradient rules. Every one of these ops is linear,
// y = A x, so its gradient rule must build the adjoint: for random x and seed R,
// <R, A x> = <A^T R, x>. check_adjoint runs the forward op and autodiff's vector-Jacobian product
// in one graph and compares both sides in double.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "ops_movement_test_util.h"
#include "passes/autodiff.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/executor.h"

namespace fc::test::movement {

inline double adjoint_at(const Tensor& t, size_t i) {
  return t.dtype() == DType::F64 ? t.data<double>()[i] : double(t.data<float>()[i]);
}

inline double dot(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.dims(), b.dims());
  double s = 0;
  for (size_t i = 0; i < a.numel() && i < b.numel(); ++i) s += adjoint_at(a, i) * adjoint_at(b, i);
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

inline Tensor random_of(const Dims& dims, uint64_t seed, DType t) {
  Tensor f = random_tensor(dims, seed);
  if (t == DType::F32) return f;
  Tensor d(DType::F64, dims);
  for (size_t i = 0; i < f.numel(); ++i) d.data<double>()[i] = f.data<float>()[i];
  return d;
}

// Runs the case and returns the gradients (input order); checks <R, y> = <dx, x>.
inline std::vector<Tensor> check_adjoint(const AdjointCase& c) {
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

}  // namespace fc::test::movement
