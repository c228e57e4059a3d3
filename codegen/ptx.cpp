// PTX emission of fused kernels through the NVPTX target. See ptx.h.
#include "codegen/ptx.h"

#include <mutex>

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicsNVPTX.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/Transforms/IPO/Internalize.h>

#include "codegen/llvm_emit.h"
#include "support/error.h"

extern "C" {
void LLVMInitializeNVPTXTargetInfo();
void LLVMInitializeNVPTXTarget();
void LLVMInitializeNVPTXTargetMC();
void LLVMInitializeNVPTXAsmPrinter();
}

namespace fc::codegen {

namespace {

constexpr const char* kTriple = "nvptx64-nvidia-cuda";

void init_nvptx() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
}

bool uses_libdevice(const FusedKernel& k) {
  for (const Instr& in : k.instrs())
    if (in.op == ScalarOp::kExp || in.op == ScalarOp::kLog || in.op == ScalarOp::kTanh ||
        in.op == ScalarOp::kSigmoid || in.op == ScalarOp::kErf)
      return true;
  return false;
}

void emit_nvptx_kernel(llvm::Module& m, const FusedKernel& k, const std::string& name) {
  const LoopNest nest = make_loop_nest(k);
  llvm::LLVMContext& ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  llvm::Type* f32 = b.getFloatTy();
  llvm::Type* i64 = b.getInt64Ty();
  llvm::PointerType* pf32 = llvm::PointerType::getUnqual(f32);
  const int n_in = k.num_inputs(), n_out = k.num_outputs();
  std::vector<llvm::Type*> params(n_in + n_out, pf32);
  params.push_back(i64);
  auto* fn = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), params, false),
                                    llvm::Function::ExternalLinkage, name, m);
  for (int p = 0; p < n_in + n_out; ++p) {
    fn->getArg(p)->setName(p < n_in ? "in" + std::to_string(p) : "out" + std::to_string(p - n_in));
    fn->getArg(p)->addAttr(llvm::Attribute::NoCapture);
  }
  fn->getArg(n_in + n_out)->setName("n");
  // Marks fn as a kernel (an .entry) for the NVPTX backend.
  llvm::Metadata* ann[] = {llvm::ValueAsMetadata::get(fn), llvm::MDString::get(ctx, "kernel"),
                           llvm::ConstantAsMetadata::get(b.getInt32(1))};
  m.getOrInsertNamedMetadata("nvvm.annotations")->addOperand(llvm::MDNode::get(ctx, ann));

  auto* entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  auto* body = llvm::BasicBlock::Create(ctx, "body", fn);
  auto* exit = llvm::BasicBlock::Create(ctx, "exit", fn);
  b.SetInsertPoint(entry);
  auto sreg = [&](llvm::Intrinsic::ID id) {
    return b.CreateZExt(b.CreateCall(llvm::Intrinsic::getDeclaration(&m, id)), i64);
  };
  llvm::Value* idx = b.CreateNUWAdd(b.CreateNUWMul(sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x),
                                                   sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x)),
                                    sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x), "idx");
  b.CreateCondBr(b.CreateICmpULT(idx, fn->getArg(n_in + n_out)), body, exit);

  b.SetInsertPoint(body);
  std::vector<llvm::Value*> in_args, out_args;
  for (int i = 0; i < n_in; ++i) in_args.push_back(fn->getArg(i));
  for (int o = 0; o < n_out; ++o) out_args.push_back(fn->getArg(n_in + o));
  const std::vector<llvm::Value*> table_values = emit_param_loads(b, k, in_args);
  if (k.is_row_kernel()) {
    // idx is a row: the same row code as the CPU function, one row per thread.
    emit_row(b, k, nest, MathTarget::kNvptx, idx, in_args, out_args, table_values);
  } else {
    const std::vector<llvm::Value*> off = emit_input_offsets(b, nest, idx, nest.dims.size());
    auto load = [&](int in) -> llvm::Value* {
      return load_element(b, k, typed_input(b, k, in_args[in], in), in, off[in]);
    };
    std::vector<llvm::Value*> results =
        emit_scalar_program(b, k, MathTarget::kNvptx, load, [&](size_t instr) { return table_values[instr]; });
    for (int o = 0; o < n_out; ++o) b.CreateStore(results[o], b.CreateInBoundsGEP(f32, out_args[o], idx));
  }
  b.CreateBr(exit);
  b.SetInsertPoint(exit);
  b.CreateRetVoid();

  std::string err;
  llvm::raw_string_ostream es(err);
  FC_CHECK(!llvm::verifyFunction(*fn, &es), "codegen: invalid NVPTX IR for kernel ", name, ": ", es.str());
}

}  // namespace

std::string emit_ptx(const FusedKernel& kernel, const std::string& name, const PtxOptions& options) {
  init_nvptx();
  std::string err;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(kTriple, err);
  FC_CHECK(target, "codegen: NVPTX target unavailable: ", err);
  llvm::TargetOptions topts;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      kTriple, options.arch, "+ptx64", topts, llvm::None, llvm::None, llvm::CodeGenOpt::Aggressive));
  FC_CHECK(tm, "codegen: cannot create an NVPTX target machine for ", options.arch);

  llvm::LLVMContext ctx;
  auto m = std::make_unique<llvm::Module>(name, ctx);
  m->setTargetTriple(kTriple);
  m->setDataLayout(tm->createDataLayout());
  emit_nvptx_kernel(*m, kernel, name);
  if (uses_libdevice(kernel)) {
    auto buf = llvm::MemoryBuffer::getFile(options.libdevice_path);
    FC_CHECK(buf, "codegen: ", options.libdevice_path, ": ", buf.getError().message(),
             " (exp/log/tanh/sigmoid in PTX need CUDA's libdevice; set PtxOptions::libdevice_path)");
    auto lib = llvm::parseBitcodeFile((*buf)->getMemBufferRef(), ctx);
    if (!lib) fail("codegen: ", options.libdevice_path, ": ", llvm::toString(lib.takeError()));
    (*lib)->setTargetTriple(kTriple);
    (*lib)->setDataLayout(m->getDataLayout());
    FC_CHECK(!llvm::Linker::linkModules(*m, std::move(*lib), llvm::Linker::Flags::LinkOnlyNeeded),
             "codegen: linking libdevice failed");
    // Only the kernel stays visible; libdevice's functions get inlined and the rest deleted.
    llvm::internalizeModule(*m, [&](const llvm::GlobalValue& gv) { return gv.getName() == name; });
    // __nvvm_reflect("__CUDA_FTZ") answers 0: keep denormals, as the CPU kernel does.
    m->addModuleFlag(llvm::Module::Override, "nvvm-reflect-ftz", uint32_t{0});
  }
  optimize_module(*m, *tm);
  return emit_assembly(*m, *tm);
}

}  // namespace fc::codegen
