// codegen/: the JIT's disk cache (within a process, across processes, damaged or foreign files, a key
// that follows the emitted IR, its directory, an unwritable one) and PTX (checked with ptxas when
// CUDA is installed, the optimizer updates' programs included).
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

FusedKernel cache_kernel() {
  FusedKernel k({3, 1000});
  const int x = k.add_input({3, 1000});
  const int b = k.add_input({3, 1});
  k.add_output(k.unary(ScalarOp::kTanh, k.add(k.load(x), k.load(b))));
  return k;
}

std::vector<float> run_cache_kernel(KernelFn f) {
  auto xs = random_floats(3000, -2, 2), bs = random_floats(3, -1, 1, 5);
  std::vector<float> out(3000);
  run(f, {xs.data(), bs.data()}, {out.data()}, 0, 3000);
  return out;
}

TEST(CodegenCache, SecondJitCompilesNothing) {
  TempDir dir;
  const FusedKernel k = cache_kernel();
  std::vector<float> first;
  {
    Jit jit(JitOptions{.cache_dir = dir.path.string()});
    first = run_cache_kernel(jit.compile(k));
    EXPECT_EQ(jit.stats().compiled, 1);
    EXPECT_EQ(jit.stats().loaded, 0);
    jit.compile(k);  // the same kernel again: already in this JIT
    EXPECT_EQ(jit.stats().compiled, 1);
    EXPECT_EQ(jit.stats().reused, 1);
  }
  ASSERT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);
  Jit again(JitOptions{.cache_dir = dir.path.string()});
  const auto second = run_cache_kernel(again.compile(k));
  EXPECT_EQ(again.stats().compiled, 0);
  EXPECT_EQ(again.stats().loaded, 1);
  for (size_t i = 0; i < first.size(); ++i) ASSERT_TRUE(same_bits(first[i], second[i])) << i;
  // A different kernel is a different entry.
  FusedKernel other = cache_kernel();
  other.add_output(other.relu(0));
  again.compile(other);
  EXPECT_EQ(again.stats().compiled, 1);
}

TEST(CodegenCache, NewProcessCompilesNothing) {
  TempDir dir;
  {
    Jit jit(JitOptions{.cache_dir = dir.path.string()});
    jit.compile(cache_kernel());
    ASSERT_EQ(jit.stats().compiled, 1);
  }
  // This test binary again, running only the child test below, with the cache chosen through the
  // environment as fcrun would.
  const fs::path report = dir.path / "child_report.txt";
  const std::string cmd = "FC_KERNEL_CACHE='" + dir.path.string() + "' FC_CODEGEN_CHILD_REPORT='" + report.string() +
                          "' /proc/" + std::to_string(::getpid()) +
                          "/exe --gtest_filter=CodegenCacheChild.CompileFromCache > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(report);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "compiled 0 loaded 1");
}

TEST(CodegenCacheChild, CompileFromCache) {
  const char* report = std::getenv("FC_CODEGEN_CHILD_REPORT");
  if (!report) GTEST_SKIP() << "runs only as the child of CodegenCache.NewProcessCompilesNothing";
  Jit jit;  // default directory: $FC_KERNEL_CACHE
  const auto out = run_cache_kernel(jit.compile(cache_kernel()));
  EXPECT_EQ(out.size(), 3000u);
  std::ofstream(report) << "compiled " << jit.stats().compiled << " loaded " << jit.stats().loaded << "\n";
}

TEST(CodegenCache, DamagedOrForeignFilesAreRecompiled) {
  TempDir dir;
  const FusedKernel k = cache_kernel();
  std::vector<float> good;
  {
    Jit jit(JitOptions{.cache_dir = dir.path.string()});
    good = run_cache_kernel(jit.compile(k));
  }
  const fs::path file = fs::directory_iterator(dir.path)->path();
  const auto size = fs::file_size(file);
  // Truncated: the object part is cut short.
  fs::resize_file(file, size - size / 3);
  {
    Jit jit(JitOptions{.cache_dir = dir.path.string()});
    const auto out = run_cache_kernel(jit.compile(k));
    EXPECT_EQ(jit.stats().compiled, 1);
    EXPECT_EQ(out, good);
  }
  EXPECT_EQ(fs::file_size(file), size);  // rewritten whole
  // Another kernel's text under this name (as a hash collision would be): not used.
  std::string data;
  {
    std::ifstream in(file, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto pos = data.find("tanh");
  ASSERT_NE(pos, std::string::npos);
  data.replace(pos, 4, "relu");
  std::ofstream(file, std::ios::binary) << data;
  Jit jit(JitOptions{.cache_dir = dir.path.string()});
  EXPECT_EQ(run_cache_kernel(jit.compile(k)), good);
  EXPECT_EQ(jit.stats().compiled, 1);
  EXPECT_EQ(jit.stats().loaded, 0);
}

// The cache key follows the IR emitted for a kernel, not only its text and a hand-kept emitter
// version: the same kernel text emitted two ways (inline math and libm calls) gets two different IR
// hashes, and the description of one kernel is the same each time it is asked for.
TEST(CodegenCache, KeyFollowsTheEmittedIr) {
  const FusedKernel k = cache_kernel();  // holds a tanh: inline polynomial or a call to tanhf
  const std::string a = memory_jit().cache_description(k), b = libm_jit().cache_description(k);
  auto ir_line = [](const std::string& d) { return d.substr(d.rfind("\nir=")); };
  auto kernel_part = [](const std::string& d) { return d.substr(d.find('\n'), d.rfind("\nir=") - d.find('\n')); };
  EXPECT_EQ(ir_line(a).size(), 4u + 16u);
  EXPECT_NE(ir_line(a), ir_line(b));
  EXPECT_EQ(kernel_part(a), kernel_part(b));
  EXPECT_EQ(kernel_part(a), "\n" + k.to_text());
  EXPECT_EQ(a, memory_jit().cache_description(k));
}

TEST(CodegenCache, DefaultDirectoryFollowsEnvironment) {
  const char* old = std::getenv("FC_KERNEL_CACHE");
  const std::string saved = old ? old : "";
  ::setenv("FC_KERNEL_CACHE", "/tmp/somewhere/kernels", 1);
  EXPECT_EQ(Jit::default_cache_dir(), "/tmp/somewhere/kernels");
  ::unsetenv("FC_KERNEL_CACHE");
  EXPECT_NE(Jit::default_cache_dir().find("fcc/kernels"), std::string::npos);
  if (old) ::setenv("FC_KERNEL_CACHE", saved.c_str(), 1);
  EXPECT_NE(memory_jit().target_description().find("llvm=14"), std::string::npos);
}

TEST(CodegenCache, UnwritableCacheIsNotAnError) {
  Jit jit(JitOptions{.cache_dir = "/proc/fc_codegen_no_such_dir"});
  const auto out = run_cache_kernel(jit.compile(cache_kernel()));
  EXPECT_EQ(jit.stats().compiled, 1);
  EXPECT_EQ(jit.stats().write_failures, 1);
}

TEST(CodegenPtx, BiasReluIsAValidKernel) {
  const std::string ptx = emit_ptx(bias_relu(64, 1000), "bias_relu");
  EXPECT_NE(ptx.find(".visible .entry bias_relu("), std::string::npos) << ptx;
  EXPECT_NE(ptx.find("%ctaid.x"), std::string::npos);
  EXPECT_NE(ptx.find(".target sm_75"), std::string::npos);
  expect_ptxas_accepts(ptx, "bias_relu");
}

TEST(CodegenPtx, EveryOpAssembles) {
  // One kernel using every op, transcendentals from libdevice included, and a second output.
  const int64_t n = 1024;
  FusedKernel k({8, n});
  const int a = k.load(k.add_input({8, n}));
  const int b = k.load(k.add_input({1, n}));
  const int c = k.load(k.add_input({}));
  int acc = a;
  for (const OpCase& op : op_cases()) acc = k.add(acc, op.build(k, acc, b, c));
  k.add_output(acc);
  k.add_output(k.unary(ScalarOp::kSigmoid, a));
  const std::string ptx = emit_ptx(k, "every_op");
  EXPECT_NE(ptx.find(".visible .entry every_op("), std::string::npos);
  EXPECT_EQ(ptx.find("__nv_expf"), std::string::npos) << "libdevice should be inlined";
  expect_ptxas_accepts(ptx, "every_op");
}

TEST(CodegenPtx, TableParamsAssemble) {
  const std::string ptx = emit_ptx(table_kernel(), "table_fma");
  EXPECT_NE(ptx.find(".visible .entry table_fma("), std::string::npos) << ptx;
  expect_ptxas_accepts(ptx, "table_fma");
}

TEST(CodegenPtx, OptimizerUpdatesAssemble) {
  // The programs the CPU runs for a bucket's SGD-momentum (Nesterov) and AdamW updates, as PTX.
  ir::Graph g;
  auto value = [&](const std::string& name) { return g.add_value(name, {}); };
  ir::Node* sgd = g.add_node("SGDUpdate", {value("w"), value("g"), value("h"), value("b")}, {value("w2"), value("b2")},
                             {{"nesterov", int64_t{1}}}, "sgd");
  ir::Node* adamw = g.add_node("AdamWUpdate", {value("aw"), value("ag"), value("m"), value("v"), value("ah")},
                               {value("w3"), value("m3"), value("v3")}, {}, "adamw");
  for (ir::Node* n : {sgd, adamw}) {
    n->domain = "fc";
    std::vector<std::vector<int64_t>> shapes(n->inputs.size(), {4096});
    shapes[n == sgd ? 2 : 4] = {ir::kHyperSize};
    const std::string name = n->name + "_update";
    const std::string ptx = emit_ptx(ir::node_kernel(*n, shapes, {4096}), name);
    EXPECT_NE(ptx.find(".visible .entry " + name + "("), std::string::npos) << ptx;
    expect_ptxas_accepts(ptx, name);
  }
}

TEST(CodegenPtx, MissingLibdeviceIsAnError) {
  FusedKernel k({4});
  k.add_output(k.unary(ScalarOp::kExp, k.load(k.add_input({4}))));
  EXPECT_THROW(emit_ptx(k, "k", PtxOptions{.libdevice_path = "/nonexistent/libdevice.bc"}), Error);
}

TEST(CodegenBench, DISABLED_JitVersusPlainLoop) {
  const int64_t n = 16 << 20;
  auto x = random_floats(n, -1, 1), y = random_floats(n, -1, 1, 7);
  std::vector<float> out(n);
  auto time = [](auto&& fn) {
    double best = 1e30;
    for (int rep = 0; rep < 7; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      fn();
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  FusedKernel relu({n}), add({n});
  relu.add_output(relu.relu(relu.load(relu.add_input({n}))));
  add.add_output(add.add(add.load(add.add_input({n})), add.load(add.add_input({n}))));
  KernelFn frelu = memory_jit().compile(relu), fadd = memory_jit().compile(add);
  const float* xp = x.data();
  const float* yp = y.data();
  float* op = out.data();
  const double t_relu_jit = time([&] { run(frelu, {xp}, {op}, 0, n); });
  const double t_relu_loop = time([&] {
    for (int64_t i = 0; i < n; ++i) op[i] = std::max(xp[i], 0.0f);
  });
  const double t_add_jit = time([&] { run(fadd, {xp, yp}, {op}, 0, n); });
  const double t_add_loop = time([&] {
    for (int64_t i = 0; i < n; ++i) op[i] = xp[i] + yp[i];
  });
  auto gbs = [&](double t, int arrays) { return arrays * n * 4.0 / t / 1e9; };
  std::printf("16M floats, best of 7, one thread (GB/s counts bytes read + written)\n");
  std::printf("relu: jit %.2f ms (%.1f GB/s), plain loop %.2f ms (%.1f GB/s)\n", t_relu_jit * 1e3,
              gbs(t_relu_jit, 2), t_relu_loop * 1e3, gbs(t_relu_loop, 2));
  std::printf("add:  jit %.2f ms (%.1f GB/s), plain loop %.2f ms (%.1f GB/s)\n", t_add_jit * 1e3,
              gbs(t_add_jit, 3), t_add_loop * 1e3, gbs(t_add_loop, 3));
}

}  // namespace
}  // namespace fc::codegen
