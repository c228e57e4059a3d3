// Jit: ORC LLJIT + on-disk object cache for fused kernels. See jit.h for the protocol.
//
// Cache file <key>.fck:  "FCK1\n" <decimal byte count of the description> "\n" <description> <object>
// where the description is the target description line followed by the kernel's canonical text. A
// file whose description differs (hash collision, stale format) is treated as a miss and rewritten.
#include "codegen/jit.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <mutex>
#include <optional>
#include <sstream>

#include <llvm/ADT/StringMap.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>

#include "ir/content_hash.h"
#include "support/error.h"

namespace fc::codegen {

namespace fs = std::filesystem;

namespace {

std::string llvm_message(llvm::Error e) { return llvm::toString(std::move(e)); }

template <typename T>
T check(llvm::Expected<T> v, const char* what) {
  if (!v) fail("codegen: ", what, ": ", llvm_message(v.takeError()));
  return std::move(*v);
}

void init_native_target() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

std::string host_description(bool inline_math) {
  llvm::StringMap<bool> features;
  std::ostringstream os;
  os << "cpu=" << llvm::sys::getHostCPUName().str() << " features=";
  if (llvm::sys::getHostCPUFeatures(features)) {
    std::map<std::string, bool> sorted;  // StringMap order is unspecified; the key must not be
    for (const auto& f : features) sorted[f.getKey().str()] = f.getValue();
    bool first = true;
    for (const auto& [name, on] : sorted) {
      os << (first ? "" : ",") << (on ? "+" : "-") << name;
      first = false;
    }
  }
  os << " llvm=" << LLVM_VERSION_STRING << " emitter=" << kEmitterVersion << " math=" << (inline_math ? "inline" : "libm");
  return os.str();
}

constexpr const char* kMagic = "FCK1\n";
constexpr const char* kEmittedName = "fck";  // the kernel function's name in the IR hashed for the key

// Returns the object bytes of `path` when it holds `description`, else nothing.
std::optional<std::string> read_cache_file(const fs::path& path, const std::string& description) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::string head = kMagic + std::to_string(description.size()) + "\n";
  if (data.size() <= head.size() + description.size() || data.compare(0, head.size(), head) != 0 ||
      data.compare(head.size(), description.size(), description) != 0)
    return std::nullopt;
  return data.substr(head.size() + description.size());
}

bool write_cache_file(const fs::path& path, const std::string& description, const std::string& object) {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return false;
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return false;
    f << kMagic << description.size() << "\n" << description;
    f.write(object.data(), static_cast<std::streamsize>(object.size()));
    f.close();
    if (!f) {
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, path, ec);  // atomic: readers see the old file, no file, or the whole new one
  if (ec) fs::remove(tmp, ec);
  return !ec;
}

}  // namespace

struct Jit::Impl {
  JitOptions options;
  std::string cache_dir;
  std::string target;
  std::unique_ptr<llvm::orc::LLJIT> lljit;
  std::unique_ptr<llvm::TargetMachine> tm;  // for our own O3 + codegen
  mutable std::mutex mu;
  std::map<std::string, KernelFn> by_text;                // kernel text -> fn (this process)
  std::set<std::string> linked_symbols;                   // to catch a key collision

  // The disk cache's description of `k` (the target, the kernel's text and a hash of the IR emitted
  // for it before optimisation, its function named kEmittedName) and that IR, to be optimised on a
  // miss. The hash makes any change to what the emitter produces (vector_math.cpp, ir/float_math.h)
  // a different cache entry, so an upgraded fcrun never links a kernel its predecessor compiled.
  std::pair<std::string, std::unique_ptr<llvm::Module>> cache_description(llvm::LLVMContext& ctx,
                                                                          const FusedKernel& k) const {
    std::unique_ptr<llvm::Module> m = emit_module(ctx, k, kEmittedName);
    const std::string ir_hash = ir::hex64(ir::fnv1a64(module_text(*m)));
    return {target + "\n" + k.to_text() + "\nir=" + ir_hash, std::move(m)};
  }
  JitStats stats;

  // The kernel's IR as emitted, before optimisation, its function named `symbol`.
  std::unique_ptr<llvm::Module> emit_module(llvm::LLVMContext& ctx, const FusedKernel& k,
                                            const std::string& symbol) const {
    auto m = std::make_unique<llvm::Module>(symbol, ctx);
    m->setDataLayout(tm->createDataLayout());
    m->setTargetTriple(tm->getTargetTriple().str());
    emit_cpu_kernel(*m, k, symbol, options.inline_math ? MathTarget::kCpu : MathTarget::kCpuLibm);
    // Give the function the host CPU's attributes, as clang does, so every pass sees the same target.
    llvm::Function* fn = m->getFunction(symbol);
    fn->addFnAttr("target-cpu", tm->getTargetCPU());
    fn->addFnAttr("target-features", tm->getTargetFeatureString());
    return m;
  }

  std::unique_ptr<llvm::Module> build_module(llvm::LLVMContext& ctx, const FusedKernel& k,
                                             const std::string& symbol) const {
    std::unique_ptr<llvm::Module> m = emit_module(ctx, k, symbol);
    optimize_module(*m, *tm);
    return m;
  }
};

Jit::Jit(JitOptions options) : impl_(std::make_unique<Impl>()) {
  init_native_target();
  impl_->options = std::move(options);
  impl_->cache_dir = impl_->options.cache_dir.empty() ? default_cache_dir() : impl_->options.cache_dir;
  impl_->target = host_description(impl_->options.inline_math);
  auto jtmb = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
  jtmb.setCodeGenOptLevel(llvm::CodeGenOpt::Aggressive);
  impl_->tm = check(jtmb.createTargetMachine(), "creating the host target machine");
  impl_->lljit = check(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(jtmb).create(), "creating the JIT");
  // Kernels call libm (expf, logf, tanhf): resolve undefined symbols in this process.
  const char prefix = impl_->lljit->getDataLayout().getGlobalPrefix();
  impl_->lljit->getMainJITDylib().addGenerator(
      check(llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix), "opening the process symbols"));
}

Jit::~Jit() = default;

std::string Jit::default_cache_dir() {
  if (const char* d = std::getenv("FC_KERNEL_CACHE"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return (fs::path(x) / "fcc" / "kernels").string();
  if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".cache" / "fcc" / "kernels").string();
  return (fs::temp_directory_path() / "fcc-kernels").string();
}

JitStats Jit::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}
const std::string& Jit::cache_dir() const { return impl_->cache_dir; }
const std::string& Jit::target_description() const { return impl_->target; }

std::string Jit::optimized_ir(const FusedKernel& kernel) const {
  std::lock_guard lock(impl_->mu);  // the target machine is not thread-safe
  llvm::LLVMContext ctx;
  return module_text(*impl_->build_module(ctx, kernel, "fck_" + kernel.hash()));
}

std::string Jit::cache_description(const FusedKernel& kernel) const {
  std::lock_guard lock(impl_->mu);
  llvm::LLVMContext ctx;
  return impl_->cache_description(ctx, kernel).first;
}

KernelFn Jit::compile(const FusedKernel& kernel) {
  kernel.validate();
  Impl& im = *impl_;
  std::lock_guard lock(im.mu);
  if (auto it = im.by_text.find(kernel.to_text()); it != im.by_text.end()) {
    ++im.stats.reused;
    return it->second;
  }
  llvm::LLVMContext ctx;
  auto [description, emitted] = im.cache_description(ctx, kernel);
  const std::string key = ir::hex64(ir::fnv1a64(description));
  const std::string symbol = "fck_" + key;
  // A kernel text not seen yet has a description not seen yet: a linked symbol is a hash collision.
  FC_CHECK(!im.linked_symbols.count(symbol), "codegen: kernel hash collision on ", key);
  const fs::path path = fs::path(im.cache_dir) / (key + ".fck");
  std::optional<std::string> object;
  if (im.options.disk_cache) {
    object = read_cache_file(path, description);
    // A damaged file that still has our header: make sure it is an object file defining the symbol
    // before handing it to the linker, where an error would leave the JITDylib half-populated.
    if (object) {
      auto obj = llvm::object::ObjectFile::createObjectFile(llvm::MemoryBufferRef(*object, symbol));
      bool defines = false;
      if (obj) {
        for (const llvm::object::SymbolRef& s : (*obj)->symbols()) {
          auto name = s.getName();
          if (name && *name == symbol) defines = true;
          else if (!name) llvm::consumeError(name.takeError());
        }
      } else {
        llvm::consumeError(obj.takeError());
      }
      if (!defines) object.reset();
    }
  }
  if (object) {
    ++im.stats.loaded;
  } else {
    emitted->getFunction(kEmittedName)->setName(symbol);
    emitted->setModuleIdentifier(symbol);
    optimize_module(*emitted, *im.tm);
    object = emit_object(*emitted, *im.tm);
    ++im.stats.compiled;
    if (im.options.disk_cache && !write_cache_file(path, description, *object)) ++im.stats.write_failures;
  }
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(*object, symbol);
  if (auto e = im.lljit->addObjectFile(std::move(buffer))) fail("codegen: linking kernel ", key, ": ", llvm_message(std::move(e)));
  auto sym = check(im.lljit->lookup(symbol), "looking up the compiled kernel");
  auto fn = reinterpret_cast<KernelFn>(static_cast<uintptr_t>(sym.getAddress()));
  im.linked_symbols.insert(symbol);
  im.by_text.emplace(kernel.to_text(), fn);
  return fn;
}

}  // namespace fc::codegen
