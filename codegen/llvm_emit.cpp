// LLVM IR for fused elementwise kernels: the scalar program, the CPU range loop, the O3 pipeline
// and object/assembly emission. See llvm_emit.h for the loop's shape and why it vectorises.
#include "codegen/llvm_emit.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include "codegen/vector_math.h"
#include "ir/error.h"

namespace fc::codegen {

namespace {

llvm::Value* call_intrinsic(llvm::IRBuilderBase& b, llvm::Intrinsic::ID id, llvm::ArrayRef<llvm::Value*> args) {
  llvm::Module* m = b.GetInsertBlock()->getModule();
  llvm::Function* f = llvm::Intrinsic::getDeclaration(m, id, {b.getFloatTy()});
  return b.CreateCall(f, args);
}

// float name(float), declared readnone/nounwind so that it can be hoisted, CSE'd and deleted if dead.
llvm::Value* call_math(llvm::IRBuilderBase& b, const char* name, llvm::Value* x) {
  llvm::Module* m = b.GetInsertBlock()->getModule();
  llvm::FunctionType* ty = llvm::FunctionType::get(b.getFloatTy(), {b.getFloatTy()}, false);
  llvm::FunctionCallee f = m->getOrInsertFunction(name, ty);
  if (auto* fn = llvm::dyn_cast<llvm::Function>(f.getCallee())) {
    fn->setDoesNotAccessMemory();
    fn->setDoesNotThrow();
    fn->setWillReturn();
  }
  return b.CreateCall(f, {x});
}

llvm::Value* emit_exp(llvm::IRBuilderBase& b, MathTarget math, llvm::Value* x) {
  switch (math) {
    case MathTarget::kCpu: return emit_inline_exp(b, x);
    case MathTarget::kCpuLibm: return call_intrinsic(b, llvm::Intrinsic::exp, {x});
    case MathTarget::kNvptx: break;
  }
  return call_math(b, "__nv_expf", x);
}

llvm::Value* emit_log(llvm::IRBuilderBase& b, MathTarget math, llvm::Value* x) {
  switch (math) {
    case MathTarget::kCpu: return emit_inline_log(b, x);
    case MathTarget::kCpuLibm: return call_intrinsic(b, llvm::Intrinsic::log, {x});
    case MathTarget::kNvptx: break;
  }
  return call_math(b, "__nv_logf", x);
}

llvm::Value* emit_tanh(llvm::IRBuilderBase& b, MathTarget math, llvm::Value* x) {
  switch (math) {
    case MathTarget::kCpu: return emit_inline_tanh(b, x);
    case MathTarget::kCpuLibm: return call_math(b, "tanhf", x);
    case MathTarget::kNvptx: break;
  }
  return call_math(b, "__nv_tanhf", x);
}

}  // namespace

std::vector<llvm::Value*> emit_scalar_program(llvm::IRBuilderBase& b, const FusedKernel& k, MathTarget math,
                                              const std::function<llvm::Value*(int input)>& load,
                                              const std::function<llvm::Value*(size_t instr)>& param) {
  const auto& instrs = k.instrs();
  std::vector<llvm::Value*> v(instrs.size(), nullptr);
  auto cf = [&](float x) { return llvm::ConstantFP::get(b.getFloatTy(), x); };
  for (size_t j = 0; j < instrs.size(); ++j) {
    const Instr& in = instrs[j];
    llvm::Value* a = in.a >= 0 ? v[in.a] : nullptr;
    llvm::Value* bb = in.b >= 0 ? v[in.b] : nullptr;
    llvm::Value* c = in.c >= 0 ? v[in.c] : nullptr;
    llvm::Value* r = nullptr;
    switch (in.op) {
      case ScalarOp::kLoad: r = load(in.input); break;
      case ScalarOp::kParam: r = param(j); break;
      case ScalarOp::kConst: r = cf(in.value); break;
      case ScalarOp::kAdd: r = b.CreateFAdd(a, bb); break;
      case ScalarOp::kSub: r = b.CreateFSub(a, bb); break;
      case ScalarOp::kMul: r = b.CreateFMul(a, bb); break;
      case ScalarOp::kDiv: r = b.CreateFDiv(a, bb); break;
      // (a > b || a != a) ? a : b, and the mirror for min: NaN in either operand propagates.
      case ScalarOp::kMax:
        r = b.CreateSelect(b.CreateOr(b.CreateFCmpOGT(a, bb), b.CreateFCmpUNO(a, a)), a, bb);
        break;
      case ScalarOp::kMin:
        r = b.CreateSelect(b.CreateOr(b.CreateFCmpOLT(a, bb), b.CreateFCmpUNO(a, a)), a, bb);
        break;
      case ScalarOp::kGreater: r = b.CreateSelect(b.CreateFCmpOGT(a, bb), cf(1.0f), cf(0.0f)); break;
      case ScalarOp::kLess: r = b.CreateSelect(b.CreateFCmpOLT(a, bb), cf(1.0f), cf(0.0f)); break;
      case ScalarOp::kFloor: r = call_intrinsic(b, llvm::Intrinsic::floor, {a}); break;
      case ScalarOp::kCeil: r = call_intrinsic(b, llvm::Intrinsic::ceil, {a}); break;
      case ScalarOp::kNeg: r = b.CreateFNeg(a); break;
      case ScalarOp::kAbs: r = call_intrinsic(b, llvm::Intrinsic::fabs, {a}); break;
      case ScalarOp::kRelu: r = b.CreateSelect(b.CreateFCmpOLT(a, cf(0.0f)), cf(0.0f), a); break;
      case ScalarOp::kExp: r = emit_exp(b, math, a); break;
      case ScalarOp::kLog: r = emit_log(b, math, a); break;
      case ScalarOp::kSqrt: r = call_intrinsic(b, llvm::Intrinsic::sqrt, {a}); break;
      case ScalarOp::kRsqrt: r = b.CreateFDiv(cf(1.0f), call_intrinsic(b, llvm::Intrinsic::sqrt, {a})); break;
      case ScalarOp::kTanh: r = emit_tanh(b, math, a); break;
      case ScalarOp::kSigmoid:
        r = b.CreateFDiv(cf(1.0f), b.CreateFAdd(cf(1.0f), emit_exp(b, math, b.CreateFNeg(a))));
        break;
      case ScalarOp::kLeakyRelu:
        r = b.CreateSelect(b.CreateFCmpOGE(a, cf(0.0f)), a, b.CreateFMul(cf(in.value), a));
        break;
      case ScalarOp::kSelect: r = b.CreateSelect(b.CreateFCmpUNE(a, cf(0.0f)), bb, c); break;
      case ScalarOp::kFma: r = call_intrinsic(b, llvm::Intrinsic::fma, {a, bb, c}); break;
    }
    v[j] = r;
  }
  std::vector<llvm::Value*> outs;
  for (int o : k.outputs()) outs.push_back(v[o]);
  return outs;
}

std::vector<llvm::Value*> emit_param_loads(llvm::IRBuilderBase& b, const FusedKernel& k,
                                           const std::vector<llvm::Value*>& tables) {
  std::vector<llvm::Value*> v(k.instrs().size(), nullptr);
  for (size_t j = 0; j < k.instrs().size(); ++j) {
    const Instr& in = k.instrs()[j];
    if (in.op != ScalarOp::kParam) continue;
    v[j] = b.CreateLoad(b.getFloatTy(), b.CreateConstInBoundsGEP1_64(b.getFloatTy(), tables.at(in.input),
                                                                      static_cast<uint64_t>(in.element)),
                        "param" + std::to_string(j));
  }
  return v;
}

std::vector<llvm::Value*> emit_input_offsets(llvm::IRBuilderBase& b, const LoopNest& nest, llvm::Value* index,
                                             size_t dims) {
  std::vector<llvm::Value*> offset(nest.strides.size(), b.getInt64(0));
  llvm::Value* rest = index;
  for (size_t d = dims; d-- > 0;) {
    llvm::Value* dim = b.getInt64(nest.dims[d]);
    llvm::Value* coord = d == 0 ? rest : b.CreateURem(rest, dim);
    if (d != 0) rest = b.CreateUDiv(rest, dim);
    for (size_t in = 0; in < offset.size(); ++in)
      if (nest.strides[in][d] != 0)
        offset[in] = b.CreateNUWAdd(offset[in], b.CreateNUWMul(coord, b.getInt64(nest.strides[in][d])));
  }
  return offset;
}

llvm::Function* emit_cpu_kernel(llvm::Module& m, const FusedKernel& k, const std::string& name, MathTarget math) {
  const LoopNest nest = make_loop_nest(k);  // validates
  llvm::LLVMContext& ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  llvm::Type* f32 = b.getFloatTy();
  llvm::Type* i64 = b.getInt64Ty();
  llvm::PointerType* pf32 = llvm::PointerType::getUnqual(f32);
  llvm::PointerType* ppf32 = llvm::PointerType::getUnqual(pf32);
  auto* fty = llvm::FunctionType::get(b.getVoidTy(), {ppf32, ppf32, i64, i64}, false);
  llvm::Function* fn = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, name, m);
  fn->setDoesNotThrow();
  fn->addFnAttr(llvm::Attribute::NoFree);
  fn->addFnAttr(llvm::Attribute::NoSync);
  llvm::Argument* a_in = fn->getArg(0);
  llvm::Argument* a_out = fn->getArg(1);
  llvm::Argument* a_begin = fn->getArg(2);
  llvm::Argument* a_end = fn->getArg(3);
  a_in->setName("inputs");
  a_out->setName("outputs");
  a_begin->setName("begin");
  a_end->setName("end");
  for (llvm::Argument* p : {a_in, a_out}) {
    p->addAttr(llvm::Attribute::NoCapture);
    p->addAttr(llvm::Attribute::ReadOnly);
  }

  auto* entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  auto* row_bb = llvm::BasicBlock::Create(ctx, "row", fn);
  auto* inner_bb = llvm::BasicBlock::Create(ctx, "inner", fn);
  auto* latch_bb = llvm::BasicBlock::Create(ctx, "row.latch", fn);
  auto* exit_bb = llvm::BasicBlock::Create(ctx, "exit", fn);

  b.SetInsertPoint(entry);
  const int n_in = k.num_inputs(), n_out = k.num_outputs();
  std::vector<llvm::Value*> in_ptr(n_in), out_ptr(n_out);
  for (int i = 0; i < n_in; ++i)
    in_ptr[i] = b.CreateLoad(pf32, b.CreateConstInBoundsGEP1_64(pf32, a_in, i), "in" + std::to_string(i));
  for (int o = 0; o < n_out; ++o)
    out_ptr[o] = b.CreateLoad(pf32, b.CreateConstInBoundsGEP1_64(pf32, a_out, o), "out" + std::to_string(o));
  // Table elements (hyper-parameters) once per call, before the loop: a kernel never writes a table.
  const std::vector<llvm::Value*> params = emit_param_loads(b, k, in_ptr);
  // An empty output (a zero dim) has nothing to do; the loop below would divide by zero.
  const int64_t numel = k.numel();
  llvm::Value* nonempty = numel == 0 ? b.getFalse() : b.CreateICmpSLT(a_begin, a_end);
  b.CreateCondBr(nonempty, row_bb, exit_bb);

  // row: i is the first flat index still to do; this row of the innermost dim covers [i, i + len).
  const int64_t width = nest.inner();
  const size_t rank = nest.dims.size();
  b.SetInsertPoint(row_bb);
  llvm::PHINode* i = b.CreatePHI(i64, 2, "i");
  i->addIncoming(a_begin, entry);
  llvm::Value* row = b.CreateUDiv(i, b.getInt64(width), "rowidx");
  llvm::Value* obase = b.CreateNUWMul(row, b.getInt64(width), "obase");
  llvm::Value* j0 = b.CreateNUWSub(i, obase, "j0");
  llvm::Value* room = b.CreateNUWAdd(j0, b.CreateNUWSub(a_end, i));
  llvm::Value* jend = b.CreateSelect(b.CreateICmpULT(room, b.getInt64(width)), room, b.getInt64(width), "jend");
  // Input bases from the row's coordinates over the outer dims (constant divisors: mul/shift).
  const std::vector<llvm::Value*> base = emit_input_offsets(b, nest, row, rank >= 1 ? rank - 1 : 0);
  std::vector<llvm::Value*> in_row(n_in);
  for (int in = 0; in < n_in; ++in) in_row[in] = b.CreateInBoundsGEP(f32, in_ptr[in], base[in]);
  std::vector<llvm::Value*> out_row(n_out);
  for (int o = 0; o < n_out; ++o) out_row[o] = b.CreateInBoundsGEP(f32, out_ptr[o], obase);
  b.CreateBr(inner_bb);

  // inner: j over [j0, jend), at least one iteration. Every memory access joins one access group
  // that the loop declares parallel (see llvm_emit.h).
  b.SetInsertPoint(inner_bb);
  llvm::PHINode* j = b.CreatePHI(i64, 2, "j");
  j->addIncoming(j0, row_bb);
  llvm::MDNode* group = llvm::MDNode::getDistinct(ctx, {});
  auto mark = [&](llvm::Instruction* inst) {
    inst->setMetadata(llvm::LLVMContext::MD_access_group, group);
    return inst;
  };
  const bool has_inner = rank >= 1;
  for (int in = 0; in < n_in && has_inner; ++in) FC_ASSERT(nest.strides[in][rank - 1] <= 1);
  auto load = [&](int in) -> llvm::Value* {
    const bool contiguous = has_inner && nest.strides[in][rank - 1] != 0;  // innermost stride is 0 or 1
    llvm::Value* p = contiguous ? b.CreateInBoundsGEP(f32, in_row[in], j) : in_row[in];
    return mark(b.CreateLoad(f32, p));
  };
  std::vector<llvm::Value*> results =
      emit_scalar_program(b, k, math, load, [&](size_t instr) { return params[instr]; });
  for (int o = 0; o < n_out; ++o) mark(b.CreateStore(results[o], b.CreateInBoundsGEP(f32, out_row[o], j)));
  llvm::Value* j_next = b.CreateNUWAdd(j, b.getInt64(1), "j.next");
  j->addIncoming(j_next, inner_bb);
  llvm::BranchInst* back = b.CreateCondBr(b.CreateICmpULT(j_next, jend), inner_bb, latch_bb);
  // (No llvm.loop.vectorize.enable: with it LLVM prints a warning for every loop it cannot vectorise,
  // such as loops calling tanhf; the cost model vectorises the others anyway.)
  llvm::Metadata* parallel[] = {llvm::MDString::get(ctx, "llvm.loop.parallel_accesses"), group};
  llvm::TempMDTuple tmp = llvm::MDTuple::getTemporary(ctx, {});
  llvm::MDNode* loop_id = llvm::MDNode::getDistinct(ctx, {tmp.get(), llvm::MDNode::get(ctx, parallel)});
  loop_id->replaceOperandWith(0, loop_id);
  back->setMetadata(llvm::LLVMContext::MD_loop, loop_id);

  b.SetInsertPoint(latch_bb);
  llvm::Value* i_next = b.CreateNUWAdd(i, b.CreateNUWSub(jend, j0), "i.next");
  i->addIncoming(i_next, latch_bb);
  b.CreateCondBr(b.CreateICmpSLT(i_next, a_end), row_bb, exit_bb);

  b.SetInsertPoint(exit_bb);
  b.CreateRetVoid();

  std::string err;
  llvm::raw_string_ostream es(err);
  FC_CHECK(!llvm::verifyFunction(*fn, &es), "codegen: invalid IR for kernel ", name, ": ", es.str());
  return fn;
}

void optimize_module(llvm::Module& m, llvm::TargetMachine& tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  tm.registerPassBuilderCallbacks(pb);  // NVPTX adds NVVMReflect here
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(m, mam);
}

namespace {

std::string emit_file(llvm::Module& m, llvm::TargetMachine& tm, llvm::CodeGenFileType type) {
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  {
    // The pass manager owns the streamer that buffers the output: it must be gone (flushed) before
    // the buffer is read.
    llvm::legacy::PassManager pm;
    FC_CHECK(!tm.addPassesToEmitFile(pm, os, nullptr, type), "codegen: target ", tm.getTargetTriple().str(),
             " cannot emit this file type");
    pm.run(m);
  }
  return std::string(buf.data(), buf.size());
}

}  // namespace

std::string emit_object(llvm::Module& m, llvm::TargetMachine& tm) { return emit_file(m, tm, llvm::CGFT_ObjectFile); }
std::string emit_assembly(llvm::Module& m, llvm::TargetMachine& tm) {
  return emit_file(m, tm, llvm::CGFT_AssemblyFile);
}

std::string module_text(const llvm::Module& m) {
  std::string s;
  llvm::raw_string_ostream os(s);
  m.print(os, nullptr);
  return os.str();
}

}  // namespace fc::codegen
