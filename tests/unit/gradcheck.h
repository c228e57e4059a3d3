// Registry-driven finite-difference gradient checks. Every op whose schema has a gradient rule must
// have at least one GradCase, in tests/unit/ops/NAME/grad_cases.cpp for its ir/ops/NAME.cpp (a test
// fails otherwise), so adding a gradient rule adds its check. For a case, the harness builds y_k = op(inputs), seeds each output with a
// fixed random tensor R_k, lets autodiff build the vector-Jacobian product, and compares it with
// central differences of L(x) = sum_k <R_k, y_k(x)> evaluated in double from float forward runs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/attribute.h"
#include "ir/tensor.h"

namespace fc::test {

struct GradCase {
  std::string label;                        // shown in failures, e.g. "Conv stride 2 pads"
  std::string op;
  std::string domain;                       // "" ONNX, "fc" project ops
  std::vector<ir::Tensor> inputs;           // undefined tensor = omitted optional input
  std::map<std::string, ir::Attribute> attrs;
  int num_outputs = 1;
  std::vector<int> check_inputs;            // inputs whose gradient is checked (empty: every float input)
  std::vector<int> seeded_outputs;          // outputs seeded (empty: every float output)
  double tolerance = 2e-2;                  // on ||fd - analytic|| / max(||analytic||, 1e-3)
  double step = 1e-2;                       // finite-difference step (relative to max(1, |x|))
  const char* where = __builtin_FILE();  // the case's file (op_coverage.h)
};

// A case of the ONNX op `op` checking every float input; `seeded` outputs (empty: every float one).
GradCase onnx_case(std::string label, std::string op, std::vector<ir::Tensor> inputs,
                   std::map<std::string, ir::Attribute> attrs = {}, int num_outputs = 1, std::vector<int> seeded = {},
                   const char* where = __builtin_FILE());

// Tensors of `shapes` whose values, over all of them together, are a shuffle of evenly spaced values
// in [-1, 1): no two elements that Max/Min/ReduceMax/MaxPool compare are within a finite-difference
// step of each other, so no step flips which one wins.
std::vector<ir::Tensor> distinct_values(const std::vector<std::vector<int64_t>>& shapes, uint64_t seed);

// `t` with every value within `gap` of a kink moved to kink +- gap, so no step crosses the kink.
ir::Tensor avoid_kinks(ir::Tensor t, const std::vector<float>& kinks, float gap);

// Every registered case, from every FC_GRAD_CASES block of the test binary.
std::vector<GradCase> grad_cases();

// Registers a function that appends cases: an op's finite-difference cases live beside its other
// tests, in tests/unit/ops/NAME/ for the op's ir/ops/NAME.cpp (op_coverage_test.cpp checks that).
struct GradCaseSource {
  explicit GradCaseSource(void (*add)(std::vector<GradCase>& cases));
};
#define FC_GRAD_CASES(fn)                                       \
  static void fn(std::vector<GradCase>& cases);                 \
  static const ::fc::test::GradCaseSource fn##_source_(fn);     \
  static void fn(std::vector<GradCase>& cases)

// Uniform random tensor in [lo, hi) from a fixed seed; values with |x| < gap are pushed away from
// zero (keeps inputs away from the kinks of Relu/MaxPool/Abs).
ir::Tensor random_tensor(std::vector<int64_t> dims, uint64_t seed, float lo = -1.0f, float hi = 1.0f,
                         float gap = 0.0f);

}  // namespace fc::test
