// Jit: compiles FusedKernels to native code for this CPU with LLVM's ORC LLJIT, with an on-disk
// cache of the compiled object files so that the second start of the same plan compiles nothing.
//
//   fc::codegen::Jit jit;                       // cache: $FC_KERNEL_CACHE, else $XDG_CACHE_HOME/fcc/kernels,
//   KernelFn f = jit.compile(kernel);           //        else ~/.cache/fcc/kernels
//   f(inputs, outputs, 0, kernel.numel());      // or split [0, numel) across threads
//
// compile():
//   1. Kernels already compiled by this Jit are returned at once. Otherwise key = FNV-1a 64 of the
//      kernel text, the target description (host CPU name and features, LLVM version,
//      kEmitterVersion) and a hash of the IR emitted for the kernel before optimisation, so that a
//      change to the emitter or its math (ir/float_math.h) is a new key, never a stale hit.
//   2. If <cache_dir>/<key>.fck exists and its stored kernel text and target match exactly, its object
//      file is linked into the JIT: the IR was emitted for the key, but no optimiser, no codegen
//      (stats().loaded counts these).
//   3. Otherwise: run O3 on that IR for the host target machine, emit an object file, write it to the
//      cache (temporary file + rename, so concurrent ranks never see a partial file), link it
//      (stats().compiled counts these).
// The cache is checked before any optimisation, which is why this does not use llvm::ObjectCache:
// the ObjectCache hook sits behind the IR compile layer, after the IR has been built and (in an
// IRTransformLayer) optimised, so a hit would still pay for O3. A cache write failure (read-only
// home) is not an error; the kernel just compiles again next time (stats().write_failures).
//
// The header names no LLVM type: the runtime includes it without LLVM's headers. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "codegen/llvm_emit.h"

namespace fc::codegen {

struct JitOptions {
  std::string cache_dir;   // empty: default_cache_dir()
  bool disk_cache = true;  // false: never read or write the cache
  // exp/log/tanh/sigmoid: true = inline polynomials, vectorised, within 2-3 ulp of glibc; false =
  // glibc's expf/logf/tanhf, scalar loops (llvm_emit.h).
  bool inline_math = true;
};

struct JitStats {
  int64_t compiled = 0;        // ran LLVM's optimiser and code generator
  int64_t loaded = 0;          // linked from the disk cache
  int64_t reused = 0;          // already in this Jit
  int64_t write_failures = 0;  // could not write the cache file
};

class Jit {
 public:
  explicit Jit(JitOptions options = {});
  ~Jit();
  Jit(const Jit&) = delete;
  Jit& operator=(const Jit&) = delete;

  // The kernel's range function; valid as long as this Jit lives. Throws fc::Error on a malformed
  // kernel or an LLVM failure.
  KernelFn compile(const FusedKernel& kernel);

  JitStats stats() const;
  const std::string& cache_dir() const;
  // "cpu=znver3 features=+avx,+avx2,... llvm=14.0.6 emitter=1 math=inline": what a cached object
  // must match.
  const std::string& target_description() const;
  // The optimised LLVM IR of a kernel as this Jit would compile it (debugging, tests). Compiles
  // nothing into the JIT and touches no cache.
  std::string optimized_ir(const FusedKernel& kernel) const;
  // What identifies `kernel`'s object in the disk cache (its key is this text's hash): the target,
  // the kernel text and a hash of the IR emitted for it.
  std::string cache_description(const FusedKernel& kernel) const;

  // $FC_KERNEL_CACHE, else $XDG_CACHE_HOME/fcc/kernels, else $HOME/.cache/fcc/kernels.
  static std::string default_cache_dir();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fc::codegen
