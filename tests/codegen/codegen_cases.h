// Kernels and cases shared by the codegen tests: every scalar op with its C++ reference, a table-input
// kernel, and a broadcast bias + ReLU.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "ir/fused_kernel.h"

namespace fc::codegen {

// A kernel reading scalars from a table input (the optimizer updates' hyper-parameter vector): y = x *
// t[2] + t[0], the table [5] not broadcast to the output [3, 7].
inline FusedKernel table_kernel() {
  FusedKernel k({3, 7});
  const int x = k.load(k.add_input({3, 7}));
  const int t = k.add_input({5});
  const int scale = k.param(t, 2);
  const int shift = k.param(t, 0);
  k.add_output(k.fma(x, scale, shift));
  return k;
}

struct OpCase {
  const char* name;
  int arity;
  std::function<int(FusedKernel&, int, int, int)> build;  // operands' value ids
  std::function<float(float, float, float)> ref;
  int64_t max_ulps;  // 0: bitwise; else with inline math (glibc calls: at most 1)
  float lo = -4.0f, hi = 4.0f;
};

inline std::vector<OpCase> op_cases() {
  using K = FusedKernel;
  return {
      {"add", 2, [](K& k, int a, int b, int) { return k.add(a, b); }, [](float a, float b, float) { return a + b; }, 0},
      {"sub", 2, [](K& k, int a, int b, int) { return k.sub(a, b); }, [](float a, float b, float) { return a - b; }, 0},
      {"mul", 2, [](K& k, int a, int b, int) { return k.mul(a, b); }, [](float a, float b, float) { return a * b; }, 0},
      {"div", 2, [](K& k, int a, int b, int) { return k.div(a, b); }, [](float a, float b, float) { return a / b; }, 0},
      {"max", 2, [](K& k, int a, int b, int) { return k.max(a, b); },
       [](float a, float b, float) { return (a > b || a != a) ? a : b; }, 0},
      {"min", 2, [](K& k, int a, int b, int) { return k.min(a, b); },
       [](float a, float b, float) { return (a < b || a != a) ? a : b; }, 0},
      {"greater", 2, [](K& k, int a, int b, int) { return k.greater(a, b); },
       [](float a, float b, float) { return a > b ? 1.0f : 0.0f; }, 0},
      {"less", 2, [](K& k, int a, int b, int) { return k.less(a, b); },
       [](float a, float b, float) { return a < b ? 1.0f : 0.0f; }, 0},
      // (Random floats are almost never equal: compare their floors, which often are.)
      {"equal", 2,
       [](K& k, int a, int b, int) { return k.equal(k.unary(ScalarOp::kFloor, a), k.unary(ScalarOp::kFloor, b)); },
       [](float a, float b, float) { return std::floor(a) == std::floor(b) ? 1.0f : 0.0f; }, 0},
      {"floor", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kFloor, a); },
       [](float a, float, float) { return std::floor(a); }, 0},
      {"ceil", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kCeil, a); },
       [](float a, float, float) { return std::ceil(a); }, 0},
      {"neg", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kNeg, a); }, [](float a, float, float) { return -a; }, 0},
      {"abs", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kAbs, a); },
       [](float a, float, float) { return std::fabs(a); }, 0},
      {"relu", 1, [](K& k, int a, int, int) { return k.relu(a); },
       [](float a, float, float) { return std::max(a, 0.0f); }, 0},
      {"leaky_relu", 1, [](K& k, int a, int, int) { return k.leaky_relu(a, 0.01f); },
       [](float a, float, float) { return a >= 0 ? a : 0.01f * a; }, 0},
      {"exp", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kExp, a); },
       [](float a, float, float) { return std::exp(a); }, 2, -80.0f, 80.0f},
      {"log", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kLog, a); },
       [](float a, float, float) { return std::log(a); }, 2, 1e-6f, 1e6f},
      {"sqrt", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kSqrt, a); },
       [](float a, float, float) { return std::sqrt(a); }, 0, 0.0f, 1e6f},
      {"rsqrt", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kRsqrt, a); },
       [](float a, float, float) { return 1.0f / std::sqrt(a); }, 0, 1e-6f, 1e6f},
      {"erf", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kErf, a); },
       [](float a, float, float) { return std::erf(a); }, 2, -5.0f, 5.0f},
      {"tanh", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kTanh, a); },
       [](float a, float, float) { return std::tanh(a); }, 3, -10.0f, 10.0f},
      {"sigmoid", 1, [](K& k, int a, int, int) { return k.unary(ScalarOp::kSigmoid, a); },
       [](float a, float, float) { return 1.0f / (1.0f + std::exp(-a)); }, 4, -30.0f, 30.0f},
      {"select", 3, [](K& k, int a, int b, int c) { return k.select(k.greater(a, k.constant(0.0f)), b, c); },
       [](float a, float b, float c) { return a > 0 ? b : c; }, 0},
      {"select_raw", 3, [](K& k, int a, int b, int c) { return k.select(a, b, c); },
       [](float a, float b, float c) { return a != 0 ? b : c; }, 0},
      {"fma", 3, [](K& k, int a, int b, int c) { return k.fma(a, b, c); },
       [](float a, float b, float c) { return std::fma(a, b, c); }, 0},
  };
}

// y = relu(x + b) with b: [1, C] broadcast over rows of x: [rows, C].
inline FusedKernel bias_relu(int64_t rows, int64_t cols) {
  FusedKernel k({rows, cols});
  const int x = k.add_input({rows, cols});
  const int b = k.add_input({1, cols});
  k.add_output(k.relu(k.add(k.load(x), k.load(b))));
  return k;
}

}  // namespace fc::codegen
