// Helpers shared by the codegen tests (codegen_*test.cpp, fused_kernel_text_test.cpp,
// row_kernel_test.cpp): seeded random data, ulp distances, temporary directories, JITs without a
// disk cache, and PTX validation by ptxas.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "codegen/jit.h"

namespace fc::codegen {

namespace fs = std::filesystem;

inline constexpr uint32_t kSeed = 20261124;

inline std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed = kSeed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Distance in units in the last place (0 for identical bits, both NaN, or +0 vs -0 handled as 1).
inline int64_t ulp_distance(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return 0;
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<int64_t>::max();
  auto ordered = [](float x) {
    const int32_t i = std::bit_cast<int32_t>(x);
    return i < 0 ? int64_t{INT32_MIN} - i : int64_t{i};
  };
  return std::llabs(ordered(a) - ordered(b));
}

inline bool same_bits(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

// A temporary cache directory, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("fc_codegen_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// JITs without disk cache for the value tests (they are about code, not caching): the default
// (inline, vectorised exp/log/tanh) and one calling glibc.
inline Jit& memory_jit() {
  static Jit jit(JitOptions{.disk_cache = false});
  return jit;
}
inline Jit& libm_jit() {
  static Jit jit(JitOptions{.disk_cache = false, .inline_math = false});
  return jit;
}

// Whether optimised IR holds float vectors as wide as the host's vector unit allows: <8 x float>
// with AVX2, <8 x float> or <16 x float> with AVX-512 (LLVM prefers 256-bit vectors on most
// AVX-512 CPUs, and may choose either), any float vector on other ISAs.
inline bool has_host_vector_width(const std::string& ir) {
  const std::string target = memory_jit().target_description();
  const bool avx512 = target.find("+avx512f") != std::string::npos;
  const bool avx2 = target.find("+avx2") != std::string::npos;
  if (avx512 && ir.find("<16 x float>") != std::string::npos) return true;
  if (avx2 || avx512) return ir.find("<8 x float>") != std::string::npos;
  return ir.find(" x float>") != std::string::npos;
}

inline void run(KernelFn f, const std::vector<const float*>& in, const std::vector<float*>& out, int64_t begin,
                int64_t end) {
  f(in.data(), out.data(), begin, end);
}

inline constexpr const char* kPtxas = "/usr/local/cuda/bin/ptxas";

inline void expect_ptxas_accepts(const std::string& ptx, const std::string& name) {
  if (!fs::exists(kPtxas)) GTEST_SKIP() << kPtxas << " not found: PTX not validated";
  TempDir dir;
  fs::create_directories(dir.path);
  const fs::path file = dir.path / (name + ".ptx");
  std::ofstream(file) << ptx;
  const std::string cmd = std::string(kPtxas) + " -arch=sm_75 " + file.string() + " -o " +
                          (dir.path / (name + ".cubin")).string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string log;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) log += buf;
  EXPECT_EQ(::pclose(p), 0) << cmd << "\n" << log << "\n" << ptx;
}

}  // namespace fc::codegen
