// MaxPool, AveragePool, GlobalMaxPool and GlobalAveragePool on the CPU backend (averages through
// oneDNN, maxima through the window search of runtime/cpu/kernels/pool_windows.h) against a naive
// float64 loop with PyTorch's window rules: ceil mode (including the rule that drops a last window
// starting in the right padding), count_include_pad both ways, asymmetric padding, dilation; and
// PyTorch's NaN rule for the maxima (a NaN in a window comes out).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "op_test_util.h"
#include "ops_dnnl_test_util.h"
#include "support/error.h"

using namespace fc;
using namespace fc::ir;

namespace {

struct Pool2d {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t oh = 0, ow = 0;  // output size, computed by hand in each case
};

enum class Mode { Max, AvgExcludePad, AvgIncludePad };

// x: [N, C, H, W] -> [N, C, OH, OW]. For averages, PyTorch's divisor: with count_include_pad the
// window clipped to [-pad_begin, size + pad_end), else the window clipped to the input.
std::vector<double> pool_ref(const Tensor& x, const Pool2d& p, Mode mode) {
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  std::vector<double> y;
  for (int64_t nc = 0; nc < n * c; ++nc)
    for (int64_t i = 0; i < p.oh; ++i)
      for (int64_t j = 0; j < p.ow; ++j) {
        const int64_t h0 = i * p.sh - p.pt, w0 = j * p.sw - p.pl;
        double best = -std::numeric_limits<double>::infinity(), sum = 0;
        int64_t inside = 0;
        for (int64_t a = 0; a < p.kh; ++a)
          for (int64_t e = 0; e < p.kw; ++e) {
            const int64_t yy = h0 + a * p.dh, xx = w0 + e * p.dw;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            const double v = test::at(x, (nc * h + yy) * w + xx);
            best = std::max(best, v);
            sum += v;
            ++inside;
          }
        if (mode == Mode::Max) {
          y.push_back(best);
        } else if (mode == Mode::AvgExcludePad) {
          y.push_back(sum / double(inside));
        } else {
          const int64_t hh = std::min(h0 + p.kh, h + p.pb) - h0, ww = std::min(w0 + p.kw, w + p.pr) - w0;
          y.push_back(sum / double(hh * ww));
        }
      }
  return y;
}

struct PoolCase {
  std::string name;
  std::vector<int64_t> x;
  Pool2d ref;
  std::map<std::string, Attribute> attrs;
};

using V = std::vector<int64_t>;

void run_pool(const std::string& op, const PoolCase& pc, Mode mode, std::map<std::string, Attribute> extra = {}) {
  SCOPED_TRACE(op + ": " + pc.name);
  std::mt19937 rng(99);
  Tensor x = test::random_tensor(pc.x, rng);
  std::map<std::string, Attribute> attrs = pc.attrs;
  attrs.insert(extra.begin(), extra.end());
  test::OpRun r = test::run_op(op, {x}, attrs);
  const bool one_d = pc.x.size() == 3;
  Tensor x4 = one_d ? x.reshaped({pc.x[0], pc.x[1], 1, pc.x[2]}) : x;
  Pool2d ref = pc.ref;
  if (one_d) ref.oh = 1;  // the reference sees 1-D as 2-D with a height of 1
  std::vector<int64_t> dims{pc.x[0], pc.x[1]};
  if (!one_d) dims.push_back(ref.oh);
  dims.push_back(ref.ow);
  test::expect_close(r.outputs[0], dims, pool_ref(x4, ref, mode), 1e-6);
  EXPECT_EQ(to_string(r.inferred[0]), to_string(TensorType::concrete(DType::F32, dims)));
}

std::vector<PoolCase> pool_cases() {
  return {
      {"2x2 stride 2", {2, 3, 8, 8}, {.kh = 2, .kw = 2, .sh = 2, .sw = 2, .oh = 4, .ow = 4},
       {{"kernel_shape", V{2, 2}}, {"strides", V{2, 2}}}},
      {"3x3 stride 2 pad 1", {1, 4, 7, 7},
       {.kh = 3, .kw = 3, .sh = 2, .sw = 2, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .oh = 4, .ow = 4},
       {{"kernel_shape", V{3, 3}}, {"strides", V{2, 2}}, {"pads", V{1, 1, 1, 1}}}},
      // H: ceil((5 - 2) / 2) + 1 = 3 (a partial last window); W: (6 - 2) / 2 + 1 = 3 exactly.
      {"ceil mode, partial last window", {1, 2, 5, 6}, {.kh = 2, .kw = 2, .sh = 2, .sw = 2, .oh = 3, .ow = 3},
       {{"kernel_shape", V{2, 2}}, {"strides", V{2, 2}}, {"ceil_mode", int64_t{1}}}},
      // H = 5, k 2, s 2, pads 1/1: ceil((5 + 2 - 2) / 2) + 1 = 4, but window 4 would start at 6 - 1 = 5,
      // past the input: PyTorch drops it -> 3. W = 6: ceil((6 + 2 - 2) / 2) + 1 = 4, window 4 starts at
      // 5 (inside) -> 4.
      {"ceil mode, last window in padding dropped", {1, 2, 5, 6},
       {.kh = 2, .kw = 2, .sh = 2, .sw = 2, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .oh = 3, .ow = 4},
       {{"kernel_shape", V{2, 2}}, {"strides", V{2, 2}}, {"pads", V{1, 1, 1, 1}}, {"ceil_mode", int64_t{1}}}},
      // H = 8, k 3, s 2, pads 1/1: ceil(7 / 2) + 1 = 5 (window 5 starts at 7, inside); the extension
      // beyond the declared pad must not count with count_include_pad.
      {"ceil mode with padding and extension", {2, 3, 8, 9},
       {.kh = 3, .kw = 3, .sh = 2, .sw = 2, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .oh = 5, .ow = 5},
       {{"kernel_shape", V{3, 3}}, {"strides", V{2, 2}}, {"pads", V{1, 1, 1, 1}}, {"ceil_mode", int64_t{1}}}},
      {"asymmetric pads", {1, 3, 6, 7},
       {.kh = 3, .kw = 2, .sh = 1, .sw = 2, .pt = 0, .pl = 1, .pb = 2, .pr = 0, .oh = 6, .ow = 4},
       {{"kernel_shape", V{3, 2}}, {"strides", V{1, 2}}, {"pads", V{0, 1, 2, 0}}}},
      // in 7, k 3, s 2 -> out 4, total pad 2 -> 1/1 (H); in 6 -> out 3, total pad 1 -> 0/1 (W, UPPER).
      {"auto_pad SAME_UPPER", {1, 2, 7, 6},
       {.kh = 3, .kw = 3, .sh = 2, .sw = 2, .pt = 1, .pl = 0, .pb = 1, .pr = 1, .oh = 4, .ow = 3},
       {{"kernel_shape", V{3, 3}}, {"strides", V{2, 2}}, {"auto_pad", std::string("SAME_UPPER")}}},
      {"1-D, ceil mode, pads", {2, 3, 10}, {.kw = 3, .sw = 2, .pl = 1, .pr = 1, .ow = 6},
       {{"kernel_shape", V{3}}, {"strides", V{2}}, {"pads", V{1, 1}}, {"ceil_mode", int64_t{1}}}},
  };
}

}  // namespace

TEST(DnnlPool, MaxPoolMatchesReference) {
  for (const PoolCase& c : pool_cases()) run_pool("MaxPool", c, Mode::Max);
  PoolCase dilated{"dilation 2", {1, 2, 9, 9},
                   {.kh = 3, .kw = 3, .sh = 1, .sw = 2, .dh = 2, .dw = 2, .pt = 1, .pl = 1, .pb = 1, .pr = 1,
                    .oh = 7, .ow = 4},
                   {{"kernel_shape", V{3, 3}}, {"strides", V{1, 2}}, {"dilations", V{2, 2}}, {"pads", V{1, 1, 1, 1}}}};
  run_pool("MaxPool", dilated, Mode::Max);
}

TEST(DnnlPool, AveragePoolExcludingPadMatchesReference) {
  for (const PoolCase& c : pool_cases()) run_pool("AveragePool", c, Mode::AvgExcludePad);
}

TEST(DnnlPool, AveragePoolIncludingPadMatchesReference) {
  for (const PoolCase& c : pool_cases())
    run_pool("AveragePool", c, Mode::AvgIncludePad, {{"count_include_pad", int64_t{1}}});
}

TEST(DnnlPool, GlobalPoolsMatchReference) {
  std::mt19937 rng(5);
  for (const V& dims : {V{2, 3, 5, 7}, V{1, 4, 9}, V{2, 16, 3, 3}}) {
    Tensor x = test::random_tensor(dims, rng);
    const int64_t nc = dims[0] * dims[1], s = ir::Tensor(DType::F32, dims).numel() / nc;
    std::vector<double> mean(nc), mx(nc, -1e30);
    for (int64_t i = 0; i < nc; ++i) {
      for (int64_t j = 0; j < s; ++j) {
        mean[i] += test::at(x, i * s + j) / double(s);
        mx[i] = std::max(mx[i], test::at(x, i * s + j));
      }
    }
    V out{dims[0], dims[1]};
    out.resize(dims.size(), 1);
    test::expect_close(test::run_op("GlobalAveragePool", {x}).outputs[0], out, mean);
    test::expect_close(test::run_op("GlobalMaxPool", {x}).outputs[0], out, mx, 0);
  }
}

TEST(DnnlPool, MaxPoolsLetANaNThrough) {
  // PyTorch: a NaN in a window is its maximum (oneDNN's max pooling, used before, skipped it).
  std::vector<float> values(16);
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i);
  values[5] = std::numeric_limits<float>::quiet_NaN();  // (1, 1) of a 4x4 plane
  const Tensor x = Tensor::from_vector<float>({1, 1, 4, 4}, values);
  const Tensor y = test::run_op("MaxPool", {x}, {{"kernel_shape", V{2, 2}}, {"strides", V{2, 2}}}).outputs[0];
  const float* p = y.data<float>();
  EXPECT_TRUE(std::isnan(p[0]));  // the window holding (1, 1)
  EXPECT_EQ(p[1], 7.0f);
  EXPECT_EQ(p[2], 13.0f);
  EXPECT_EQ(p[3], 15.0f);
  EXPECT_TRUE(std::isnan(test::run_op("GlobalMaxPool", {x}).outputs[0].data<float>()[0]));
}

TEST(DnnlPool, ShapeFunctionsKeepSymbolicBatch) {
  Graph g;
  Value* x = g.add_value("x", TensorType(DType::F32, {Dim::sym("N"), Dim::known(3), Dim::known(5), Dim::known(6)}));
  g.inputs = {x};
  Value* a = g.add_value("a", {});
  Value* b = g.add_value("b", {});
  g.add_node("MaxPool", {x}, {a},
             {{"kernel_shape", V{2, 2}}, {"strides", V{2, 2}}, {"pads", V{1, 1, 1, 1}}, {"ceil_mode", int64_t{1}}});
  g.add_node("GlobalAveragePool", {a}, {b});
  g.outputs = {b};
  infer_graph_types(g);
  EXPECT_EQ(to_string(a->type), "f32[N,3,3,4]");
  EXPECT_EQ(to_string(b->type), "f32[N,3,1,1]");
}

TEST(DnnlPool, RejectsUnsupportedFormsNamingTheNode) {
  std::mt19937 rng(3);
  Tensor x = test::random_tensor({1, 2, 6, 6}, rng);
  auto expect_error = [&](const std::string& op, std::map<std::string, Attribute> attrs, int outputs,
                          const std::string& what) {
    try {
      test::run_op(op, {x}, attrs, outputs);
      ADD_FAILURE() << "expected an error about " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("test_" + op), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error("MaxPool", {{"kernel_shape", V{2, 2}}, {"storage_order", int64_t{2}}}, 1, "storage_order");
  expect_error("AveragePool", {{"kernel_shape", V{2, 2}}}, 2, "one output");
  expect_error("MaxPool", {}, 1, "kernel_shape");
  expect_error("AveragePool", {{"kernel_shape", V{2, 2}}, {"pads", V{2, 0, 0, 0}}}, 1, "pads");
  expect_error("AveragePool", {{"kernel_shape", V{2, 2, 2}}}, 1, "kernel_shape");
}

// Values PyTorch gives (avg_pool1d(ones(1, 1, 10), 3, 2, 1, ceil_mode=True, count_include_pad=...)):
// the left padding counts, the ceil-mode extension past the right padding does not.
TEST(DnnlPool, AveragePoolCeilModeDivisorsMatchPyTorch) {
  Tensor x = Tensor::from_vector<float>({1, 1, 10}, std::vector<float>(10, 1.0f));
  std::map<std::string, Attribute> attrs{
      {"kernel_shape", V{3}}, {"strides", V{2}}, {"pads", V{1, 1}}, {"ceil_mode", int64_t{1}}};
  attrs["count_include_pad"] = int64_t{1};
  test::expect_close(test::run_op("AveragePool", {x}, attrs).outputs[0], {1, 1, 6},
                     {2.0 / 3, 1, 1, 1, 1, 0.5}, 1e-6);
  attrs["count_include_pad"] = int64_t{0};
  test::expect_close(test::run_op("AveragePool", {x}, attrs).outputs[0], {1, 1, 6}, {1, 1, 1, 1, 1, 1}, 1e-6);
}
