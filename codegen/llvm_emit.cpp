// LLVM IR for fused elementwise kernels: the scalar program, the CPU range loop, the O3 pipeline
// and object/assembly emission. See llvm_emit.h for the loop's shape and why it vectorises.
#include "codegen/llvm_emit.h"

#include <limits>

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
#include "support/error.h"

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

llvm::Value* emit_erf(llvm::IRBuilderBase& b, MathTarget math, llvm::Value* x) {
  switch (math) {
    case MathTarget::kCpu: return emit_inline_erf(b, x);
    case MathTarget::kCpuLibm: return call_math(b, "erff", x);
    case MathTarget::kNvptx: break;
  }
  return call_math(b, "__nv_erff", x);
}

}  // namespace

namespace {

// One instruction from its operand values. Loads, params, column and reductions are the caller's.
llvm::Value* emit_op(llvm::IRBuilderBase& b, MathTarget math, const Instr& in, llvm::Value* a, llvm::Value* bb,
                     llvm::Value* c) {
  auto cf = [&](float x) { return llvm::ConstantFP::get(b.getFloatTy(), x); };
  switch (in.op) {
    case ScalarOp::kLoad: case ScalarOp::kLoadI64: case ScalarOp::kParam: case ScalarOp::kColumn:
    case ScalarOp::kRowMax: case ScalarOp::kRowSum:
      break;
    case ScalarOp::kConst: return cf(in.value);
    case ScalarOp::kAdd: return b.CreateFAdd(a, bb);
    case ScalarOp::kSub: return b.CreateFSub(a, bb);
    case ScalarOp::kMul: return b.CreateFMul(a, bb);
    case ScalarOp::kDiv: return b.CreateFDiv(a, bb);
    // (a > b || a != a) ? a : b, and the mirror for min: NaN in either operand propagates.
    case ScalarOp::kMax: return b.CreateSelect(b.CreateOr(b.CreateFCmpOGT(a, bb), b.CreateFCmpUNO(a, a)), a, bb);
    case ScalarOp::kMin: return b.CreateSelect(b.CreateOr(b.CreateFCmpOLT(a, bb), b.CreateFCmpUNO(a, a)), a, bb);
    case ScalarOp::kGreater: return b.CreateSelect(b.CreateFCmpOGT(a, bb), cf(1.0f), cf(0.0f));
    case ScalarOp::kLess: return b.CreateSelect(b.CreateFCmpOLT(a, bb), cf(1.0f), cf(0.0f));
    case ScalarOp::kEqual: return b.CreateSelect(b.CreateFCmpOEQ(a, bb), cf(1.0f), cf(0.0f));
    case ScalarOp::kFloor: return call_intrinsic(b, llvm::Intrinsic::floor, {a});
    case ScalarOp::kCeil: return call_intrinsic(b, llvm::Intrinsic::ceil, {a});
    case ScalarOp::kNeg: return b.CreateFNeg(a);
    case ScalarOp::kAbs: return call_intrinsic(b, llvm::Intrinsic::fabs, {a});
    case ScalarOp::kRelu: return b.CreateSelect(b.CreateFCmpOLT(a, cf(0.0f)), cf(0.0f), a);
    case ScalarOp::kExp: return emit_exp(b, math, a);
    case ScalarOp::kLog: return emit_log(b, math, a);
    case ScalarOp::kSqrt: return call_intrinsic(b, llvm::Intrinsic::sqrt, {a});
    case ScalarOp::kRsqrt: return b.CreateFDiv(cf(1.0f), call_intrinsic(b, llvm::Intrinsic::sqrt, {a}));
    case ScalarOp::kTanh: return emit_tanh(b, math, a);
    case ScalarOp::kErf: return emit_erf(b, math, a);
    case ScalarOp::kSigmoid: return b.CreateFDiv(cf(1.0f), b.CreateFAdd(cf(1.0f), emit_exp(b, math, b.CreateFNeg(a))));
    case ScalarOp::kLeakyRelu: return b.CreateSelect(b.CreateFCmpOGE(a, cf(0.0f)), a, b.CreateFMul(cf(in.value), a));
    case ScalarOp::kSelect: return b.CreateSelect(b.CreateFCmpUNE(a, cf(0.0f)), bb, c);
    case ScalarOp::kFma: return call_intrinsic(b, llvm::Intrinsic::fma, {a, bb, c});
  }
  fail("codegen: ", op_name(in.op), " has no plain lowering");
}

// Where a program's leaves come from at the current insertion point.
struct Leaves {
  std::function<llvm::Value*(int input)> load;       // kLoad, kLoadI64 (as float)
  std::function<llvm::Value*(size_t instr)> param;   // kParam
  llvm::Value* column = nullptr;                     // kColumn (row kernels)
};

// Emits, in program order, every value j with want[j] that `v` does not hold yet, and the values
// those need. Reductions must already be in `v`.
void emit_values(llvm::IRBuilderBase& b, const FusedKernel& k, MathTarget math, const std::vector<bool>& want,
                 const Leaves& leaves, std::vector<llvm::Value*>& v) {
  const auto& instrs = k.instrs();
  std::vector<bool> need = want;
  for (size_t j = instrs.size(); j-- > 0;)
    if (need[j] && !v[j])
      for (int o : {instrs[j].a, instrs[j].b, instrs[j].c})
        if (o >= 0) need[static_cast<size_t>(o)] = true;
  for (size_t j = 0; j < instrs.size(); ++j) {
    if (!need[j] || v[j]) continue;
    const Instr& in = instrs[j];
    switch (in.op) {
      case ScalarOp::kLoad: case ScalarOp::kLoadI64: v[j] = leaves.load(in.input); break;
      case ScalarOp::kParam: v[j] = leaves.param(j); break;
      case ScalarOp::kColumn: v[j] = leaves.column; break;
      case ScalarOp::kRowMax: case ScalarOp::kRowSum: FC_ASSERT(false); break;
      default:
        v[j] = emit_op(b, math, in, in.a >= 0 ? v[in.a] : nullptr, in.b >= 0 ? v[in.b] : nullptr,
                       in.c >= 0 ? v[in.c] : nullptr);
    }
    FC_ASSERT(v[j]);
  }
}

}  // namespace

std::vector<llvm::Value*> emit_scalar_program(llvm::IRBuilderBase& b, const FusedKernel& k, MathTarget math,
                                              const std::function<llvm::Value*(int input)>& load,
                                              const std::function<llvm::Value*(size_t instr)>& param) {
  FC_CHECK(!k.is_row_kernel(), "codegen: a row kernel has no single scalar program (use emit_row)");
  std::vector<llvm::Value*> v(k.instrs().size(), nullptr);
  std::vector<bool> want(k.instrs().size(), false);
  for (int o : k.outputs()) want[static_cast<size_t>(o)] = true;
  emit_values(b, k, math, want, Leaves{load, param, nullptr}, v);
  std::vector<llvm::Value*> outs;
  for (int o : k.outputs()) outs.push_back(v[o]);
  return outs;
}

llvm::Value* typed_input(llvm::IRBuilderBase& b, const FusedKernel& k, llvm::Value* ptr, int input) {
  if (!k.is_i64(input)) return ptr;
  return b.CreateBitCast(ptr, llvm::PointerType::getUnqual(b.getInt64Ty()));
}

llvm::Value* load_element(llvm::IRBuilderBase& b, const FusedKernel& k, llvm::Value* typed, int input,
                          llvm::Value* offset) {
  llvm::Type* t = k.is_i64(input) ? b.getInt64Ty() : b.getFloatTy();
  llvm::Value* p = offset ? b.CreateInBoundsGEP(t, typed, offset) : typed;
  llvm::Value* x = b.CreateLoad(t, p);
  return k.is_i64(input) ? b.CreateSIToFP(x, b.getFloatTy()) : x;
}

namespace {

// Marks the loop whose back branch is `latch` as having independent iterations for the memory
// accesses in `group` (llvm.loop.parallel_accesses).
// no_unroll keeps the loop a loop until the vectoriser sees it (a short fixed trip count would
// otherwise be unrolled first, leaving scalar code).
void declare_parallel(llvm::BranchInst* latch, llvm::MDNode* group, bool no_unroll = false) {
  llvm::LLVMContext& ctx = latch->getContext();
  llvm::Metadata* parallel[] = {llvm::MDString::get(ctx, "llvm.loop.parallel_accesses"), group};
  llvm::TempMDTuple tmp = llvm::MDTuple::getTemporary(ctx, {});
  std::vector<llvm::Metadata*> ops = {tmp.get(), llvm::MDNode::get(ctx, parallel)};
  if (no_unroll) ops.push_back(llvm::MDNode::get(ctx, {llvm::MDString::get(ctx, "llvm.loop.unroll.disable")}));
  llvm::MDNode* loop_id = llvm::MDNode::getDistinct(ctx, ops);
  loop_id->replaceOperandWith(0, loop_id);
  latch->setMetadata(llvm::LLVMContext::MD_loop, loop_id);
}

// for (j = 0; j < n; ++j) with loop-carried values (n > 0), at b's insertion point; body(j, carried)
// returns the next carried values. Leaves b after the loop and returns the final carried values;
// *latch is the loop's back branch (for loop metadata).
std::vector<llvm::Value*> emit_row_loop(
    llvm::IRBuilderBase& b, int64_t n, const std::vector<llvm::Value*>& init,
    const std::function<std::vector<llvm::Value*>(llvm::Value* j, const std::vector<llvm::Value*>&)>& body,
    llvm::BranchInst** latch, llvm::BasicBlock** loop_block) {
  llvm::LLVMContext& ctx = b.getContext();
  llvm::Function* fn = b.GetInsertBlock()->getParent();
  llvm::BasicBlock* pre = b.GetInsertBlock();
  llvm::BasicBlock* loop = llvm::BasicBlock::Create(ctx, "col", fn);
  llvm::BasicBlock* after = llvm::BasicBlock::Create(ctx, "col.end", fn);
  b.CreateBr(loop);
  b.SetInsertPoint(loop);
  llvm::PHINode* j = b.CreatePHI(b.getInt64Ty(), 2, "c");
  j->addIncoming(b.getInt64(0), pre);
  std::vector<llvm::PHINode*> phis;
  std::vector<llvm::Value*> carried;
  for (llvm::Value* x : init) {
    phis.push_back(b.CreatePHI(x->getType(), 2, "acc"));
    phis.back()->addIncoming(x, pre);
    carried.push_back(phis.back());
  }
  std::vector<llvm::Value*> next = body(j, carried);
  llvm::BasicBlock* tail = b.GetInsertBlock();
  llvm::Value* j_next = b.CreateNUWAdd(j, b.getInt64(1));
  j->addIncoming(j_next, tail);
  for (size_t i = 0; i < phis.size(); ++i) phis[i]->addIncoming(next[i], tail);
  *latch = b.CreateCondBr(b.CreateICmpULT(j_next, b.getInt64(n)), loop, after);
  *loop_block = loop;
  b.SetInsertPoint(after);
  return next;
}

}  // namespace

void emit_row(llvm::IRBuilderBase& b, const FusedKernel& k, const LoopNest& nest, MathTarget math,
              llvm::Value* row, const std::vector<llvm::Value*>& inputs, const std::vector<llvm::Value*>& outputs,
              const std::vector<llvm::Value*>& params) {
  llvm::LLVMContext& ctx = b.getContext();
  llvm::Type* f32 = b.getFloatTy();
  const auto& instrs = k.instrs();
  const std::vector<bool> row_level = k.row_level();
  const size_t rank = nest.dims.size();
  const int64_t width = nest.dims.back();
  const int n_in = k.num_inputs();
  // Each input's row base (outer coordinates times strides); along the row it is contiguous or broadcast.
  const std::vector<llvm::Value*> base = emit_input_offsets(b, nest, row, rank - 1);
  std::vector<llvm::Value*> in_row(n_in);
  for (int i = 0; i < n_in; ++i) {
    if (!k.is_loaded(i)) continue;
    llvm::Value* typed = typed_input(b, k, inputs[i], i);
    in_row[i] = b.CreateInBoundsGEP(k.is_i64(i) ? b.getInt64Ty() : f32, typed, base[i]);
  }
  auto leaves_at = [&](llvm::Value* col) {
    return Leaves{[&, col](int in) {
                    FC_ASSERT(nest.strides[in][rank - 1] <= 1);
                    return load_element(b, k, in_row[in], in, nest.strides[in][rank - 1] ? col : nullptr);
                  },
                  [&](size_t instr) { return params[instr]; },
                  col ? b.CreateUIToFP(col, f32) : nullptr};
  };
  // Row-level values: computed once per row, before the loop that first needs them.
  std::vector<llvm::Value*> rv(instrs.size(), nullptr);
  auto row_values_upto = [&](size_t upto) {
    std::vector<bool> want(instrs.size(), false);
    for (size_t j = 0; j < upto; ++j) want[j] = row_level[j] && !rv[j];
    emit_values(b, k, math, want, leaves_at(nullptr), rv);
  };
  auto element_values = [&](llvm::Value* col, const std::vector<bool>& want) {
    std::vector<llvm::Value*> v = rv;  // row-level values are known; element-level ones are per column
    emit_values(b, k, math, want, leaves_at(col), v);
    return v;
  };
  llvm::BranchInst* latch = nullptr;
  llvm::BasicBlock* loop = nullptr;
  // The reductions' lane accumulators (double: ir/fused_kernel.h): one stack array, allocated in the
  // entry block.
  llvm::Value* lane_array = nullptr;
  {
    llvm::BasicBlock& entry = b.GetInsertBlock()->getParent()->getEntryBlock();
    llvm::IRBuilder<> eb(&entry, entry.begin());
    lane_array = eb.CreateAlloca(b.getDoubleTy(), b.getInt64(ir::kRowLanes), "lanes");
  }
  for (size_t red = 0; red < instrs.size(); ++red) {
    const Instr& r = instrs[red];
    if (r.op != ScalarOp::kRowMax && r.op != ScalarOp::kRowSum) continue;
    row_values_upto(red);
    const bool is_max = r.op == ScalarOp::kRowMax;
    llvm::Type* f64 = b.getDoubleTy();
    llvm::Value* init = llvm::ConstantFP::get(f64, is_max ? -std::numeric_limits<double>::infinity() : 0.0);
    if (width == 0) {
      rv[red] = b.CreateFPTrunc(init, f32);
      continue;
    }
    std::vector<bool> want(instrs.size(), false);
    want[static_cast<size_t>(r.a)] = true;
    const Instr op{.op = is_max ? ScalarOp::kMax : ScalarOp::kAdd};
    // kRowLanes partial results, lane l taking columns l, l + kRowLanes, ... in order
    // (ir/fused_kernel.h); the last width % kRowLanes columns unrolled. (Lanes as separate SSA
    // values, unrolled, stayed scalar: LLVM 14's SLP vectoriser did not take them.)
    const int64_t lanes = ir::kRowLanes, chunks = width / lanes;
    // The lanes live in a small stack array: per chunk, an inner loop over the lanes (lane l:
    // column chunk * lanes + l) that the loop vectoriser turns into one vector step.
    for (int64_t l = 0; l < lanes; ++l) b.CreateStore(init, b.CreateConstInBoundsGEP1_64(f64, lane_array, l));
    if (chunks > 0)
      emit_row_loop(
          b, chunks, {},
          [&](llvm::Value* chunk, const std::vector<llvm::Value*>&) {
            llvm::Value* first = b.CreateNUWMul(chunk, b.getInt64(lanes));
            llvm::BranchInst* lane_latch = nullptr;
            llvm::BasicBlock* lane_loop = nullptr;
            emit_row_loop(
                b, lanes, {},
                [&](llvm::Value* l, const std::vector<llvm::Value*>&) {
                  llvm::Value* x = element_values(b.CreateNUWAdd(first, l), want)[static_cast<size_t>(r.a)];
                  llvm::Value* p = b.CreateInBoundsGEP(f64, lane_array, l);
                  b.CreateStore(emit_op(b, math, op, b.CreateLoad(f64, p), b.CreateFPExt(x, f64), nullptr), p);
                  return std::vector<llvm::Value*>{};
                },
                &lane_latch, &lane_loop);
            llvm::MDNode* group = llvm::MDNode::getDistinct(ctx, {});
            for (llvm::Instruction& inst : *lane_loop)
              if (llvm::isa<llvm::LoadInst>(inst) || llvm::isa<llvm::StoreInst>(inst))
                inst.setMetadata(llvm::LLVMContext::MD_access_group, group);
            FC_ASSERT(lane_latch->getParent() == lane_loop);
            declare_parallel(lane_latch, group, /*no_unroll=*/true);
            return std::vector<llvm::Value*>{};
          },
          &latch, &loop);
    std::vector<llvm::Value*> acc(static_cast<size_t>(lanes));
    for (int64_t l = 0; l < lanes; ++l)
      acc[static_cast<size_t>(l)] = b.CreateLoad(f64, b.CreateConstInBoundsGEP1_64(f64, lane_array, l));
    for (int64_t j = chunks * lanes; j < width; ++j) {
      llvm::Value*& a = acc[static_cast<size_t>(j % lanes)];
      a = emit_op(b, math, op, a, b.CreateFPExt(element_values(b.getInt64(j), want)[static_cast<size_t>(r.a)], f64),
                  nullptr);
    }
    for (int64_t step = 1; step < lanes; step *= 2)  // the balanced tree: (0,1) (2,3) ..., then (01,23) ...
      for (int64_t l = 0; l + step < lanes; l += 2 * step)
        acc[static_cast<size_t>(l)] = emit_op(b, math, op, acc[static_cast<size_t>(l)],
                                              acc[static_cast<size_t>(l + step)], nullptr);
    rv[red] = b.CreateFPTrunc(acc[0], f32);
  }
  row_values_upto(instrs.size());
  std::vector<bool> want(instrs.size(), false);
  for (int o : k.outputs()) want[static_cast<size_t>(o)] = !row_level[static_cast<size_t>(o)];
  bool any_element_output = false;
  for (size_t o = 0; o < k.outputs().size(); ++o) {
    const size_t value = static_cast<size_t>(k.outputs()[o]);
    if (row_level[value]) b.CreateStore(rv[value], b.CreateInBoundsGEP(f32, outputs[o], row));
    else any_element_output = true;
  }
  if (!any_element_output || width == 0) return;
  llvm::Value* obase = b.CreateNUWMul(row, b.getInt64(width), "obase");
  emit_row_loop(
      b, width, {},
      [&](llvm::Value* col, const std::vector<llvm::Value*>&) -> std::vector<llvm::Value*> {
        const std::vector<llvm::Value*> v = element_values(col, want);
        llvm::Value* at = b.CreateNUWAdd(obase, col);
        for (size_t o = 0; o < k.outputs().size(); ++o) {
          const size_t value = static_cast<size_t>(k.outputs()[o]);
          if (!row_level[value]) b.CreateStore(v[value], b.CreateInBoundsGEP(f32, outputs[o], at));
        }
        return {};
      },
      &latch, &loop);
  // The output pass's columns are independent (an in-place output reads element j before writing
  // it, in the same iteration; the reductions before have finished): declared parallel so that it
  // vectorises. (The reduction loops stay in order: their result must not depend on vector width.)
  llvm::MDNode* group = llvm::MDNode::getDistinct(ctx, {});
  for (llvm::Instruction& inst : *loop)
    if (llvm::isa<llvm::LoadInst>(inst) || llvm::isa<llvm::StoreInst>(inst))
      inst.setMetadata(llvm::LLVMContext::MD_access_group, group);
  FC_ASSERT(latch->getParent() == loop);  // straight-line body (inline math makes no blocks)
  declare_parallel(latch, group);
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

namespace {

// The CPU range function's signature and prologue: the input/output pointers and the table
// elements (hyper-parameters, loaded once per call: a kernel never writes a table).
struct CpuFunction {
  llvm::Function* fn = nullptr;
  llvm::BasicBlock* entry = nullptr;
  llvm::Value *begin = nullptr, *end = nullptr;
  std::vector<llvm::Value*> in_ptr, out_ptr, params;
};

CpuFunction begin_cpu_function(llvm::IRBuilderBase& b, llvm::Module& m, const FusedKernel& k,
                               const std::string& name) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::PointerType* pf32 = llvm::PointerType::getUnqual(b.getFloatTy());
  llvm::PointerType* ppf32 = llvm::PointerType::getUnqual(pf32);
  auto* fty = llvm::FunctionType::get(b.getVoidTy(), {ppf32, ppf32, b.getInt64Ty(), b.getInt64Ty()}, false);
  CpuFunction f;
  f.fn = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, name, m);
  f.fn->setDoesNotThrow();
  f.fn->addFnAttr(llvm::Attribute::NoFree);
  f.fn->addFnAttr(llvm::Attribute::NoSync);
  const char* names[] = {"inputs", "outputs", "begin", "end"};
  for (unsigned a = 0; a < 4; ++a) f.fn->getArg(a)->setName(names[a]);
  for (unsigned a = 0; a < 2; ++a) {
    f.fn->getArg(a)->addAttr(llvm::Attribute::NoCapture);
    f.fn->getArg(a)->addAttr(llvm::Attribute::ReadOnly);
  }
  f.begin = f.fn->getArg(2);
  f.end = f.fn->getArg(3);
  f.entry = llvm::BasicBlock::Create(ctx, "entry", f.fn);
  b.SetInsertPoint(f.entry);
  for (int i = 0; i < k.num_inputs(); ++i)
    f.in_ptr.push_back(
        b.CreateLoad(pf32, b.CreateConstInBoundsGEP1_64(pf32, f.fn->getArg(0), i), "in" + std::to_string(i)));
  for (int o = 0; o < k.num_outputs(); ++o)
    f.out_ptr.push_back(
        b.CreateLoad(pf32, b.CreateConstInBoundsGEP1_64(pf32, f.fn->getArg(1), o), "out" + std::to_string(o)));
  f.params = emit_param_loads(b, k, f.in_ptr);
  return f;
}

llvm::Function* finish_function(llvm::Function* fn, const std::string& name) {
  std::string err;
  llvm::raw_string_ostream es(err);
  FC_CHECK(!llvm::verifyFunction(*fn, &es), "codegen: invalid IR for kernel ", name, ": ", es.str());
  return fn;
}

// A row kernel: for (row = begin; row < end; ++row) emit_row(...).
llvm::Function* emit_cpu_row_kernel(llvm::Module& m, const FusedKernel& k, const LoopNest& nest,
                                    const std::string& name, MathTarget math) {
  llvm::IRBuilder<> b(m.getContext());
  CpuFunction f = begin_cpu_function(b, m, k, name);
  auto* row_bb = llvm::BasicBlock::Create(m.getContext(), "row", f.fn);
  auto* exit_bb = llvm::BasicBlock::Create(m.getContext(), "exit", f.fn);
  b.CreateCondBr(b.CreateICmpSLT(f.begin, f.end), row_bb, exit_bb);
  b.SetInsertPoint(row_bb);
  llvm::PHINode* row = b.CreatePHI(b.getInt64Ty(), 2, "r");
  row->addIncoming(f.begin, f.entry);
  emit_row(b, k, nest, math, row, f.in_ptr, f.out_ptr, f.params);
  llvm::Value* next = b.CreateNUWAdd(row, b.getInt64(1), "r.next");
  row->addIncoming(next, b.GetInsertBlock());
  b.CreateCondBr(b.CreateICmpSLT(next, f.end), row_bb, exit_bb);
  b.SetInsertPoint(exit_bb);
  b.CreateRetVoid();
  return finish_function(f.fn, name);
}

}  // namespace

llvm::Function* emit_cpu_kernel(llvm::Module& m, const FusedKernel& k, const std::string& name, MathTarget math) {
  const LoopNest nest = make_loop_nest(k);  // validates
  if (k.is_row_kernel()) return emit_cpu_row_kernel(m, k, nest, name, math);
  llvm::LLVMContext& ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  llvm::Type* f32 = b.getFloatTy();
  llvm::Type* i64 = b.getInt64Ty();
  CpuFunction f = begin_cpu_function(b, m, k, name);
  auto* row_bb = llvm::BasicBlock::Create(ctx, "row", f.fn);
  auto* inner_bb = llvm::BasicBlock::Create(ctx, "inner", f.fn);
  auto* latch_bb = llvm::BasicBlock::Create(ctx, "row.latch", f.fn);
  auto* exit_bb = llvm::BasicBlock::Create(ctx, "exit", f.fn);
  const int n_in = k.num_inputs(), n_out = k.num_outputs();
  // An empty output (a zero dim) has nothing to do; the loop below would divide by zero.
  const int64_t numel = k.numel();
  llvm::Value* nonempty = numel == 0 ? b.getFalse() : b.CreateICmpSLT(f.begin, f.end);
  b.CreateCondBr(nonempty, row_bb, exit_bb);

  // row: i is the first flat index still to do; this row of the innermost dim covers [i, i + len).
  const int64_t width = nest.inner();
  const size_t rank = nest.dims.size();
  b.SetInsertPoint(row_bb);
  llvm::PHINode* i = b.CreatePHI(i64, 2, "i");
  i->addIncoming(f.begin, f.entry);
  llvm::Value* row = b.CreateUDiv(i, b.getInt64(width), "rowidx");
  llvm::Value* obase = b.CreateNUWMul(row, b.getInt64(width), "obase");
  llvm::Value* j0 = b.CreateNUWSub(i, obase, "j0");
  llvm::Value* room = b.CreateNUWAdd(j0, b.CreateNUWSub(f.end, i));
  llvm::Value* jend = b.CreateSelect(b.CreateICmpULT(room, b.getInt64(width)), room, b.getInt64(width), "jend");
  // Input bases from the row's coordinates over the outer dims (constant divisors: mul/shift).
  const std::vector<llvm::Value*> base = emit_input_offsets(b, nest, row, rank >= 1 ? rank - 1 : 0);
  std::vector<llvm::Value*> in_row(n_in);
  for (int in = 0; in < n_in; ++in)
    in_row[in] = b.CreateInBoundsGEP(k.is_i64(in) ? i64 : f32, typed_input(b, k, f.in_ptr[in], in), base[in]);
  std::vector<llvm::Value*> out_row(n_out);
  for (int o = 0; o < n_out; ++o) out_row[o] = b.CreateInBoundsGEP(f32, f.out_ptr[o], obase);
  b.CreateBr(inner_bb);

  // inner: j over [j0, jend), at least one iteration. Every memory access joins one access group
  // that the loop declares parallel (see llvm_emit.h).
  b.SetInsertPoint(inner_bb);
  llvm::PHINode* j = b.CreatePHI(i64, 2, "j");
  j->addIncoming(j0, row_bb);
  const bool has_inner = rank >= 1;
  for (int in = 0; in < n_in && has_inner; ++in) FC_ASSERT(nest.strides[in][rank - 1] <= 1);
  auto load = [&](int in) -> llvm::Value* {
    const bool contiguous = has_inner && nest.strides[in][rank - 1] != 0;  // innermost stride is 0 or 1
    return load_element(b, k, in_row[in], in, contiguous ? j : nullptr);
  };
  std::vector<llvm::Value*> results =
      emit_scalar_program(b, k, math, load, [&](size_t instr) { return f.params[instr]; });
  for (int o = 0; o < n_out; ++o) b.CreateStore(results[o], b.CreateInBoundsGEP(f32, out_row[o], j));
  llvm::MDNode* group = llvm::MDNode::getDistinct(ctx, {});
  for (llvm::Instruction& inst : *inner_bb)
    if (llvm::isa<llvm::LoadInst>(inst) || llvm::isa<llvm::StoreInst>(inst))
      inst.setMetadata(llvm::LLVMContext::MD_access_group, group);
  llvm::Value* j_next = b.CreateNUWAdd(j, b.getInt64(1), "j.next");
  j->addIncoming(j_next, inner_bb);
  FC_ASSERT(b.GetInsertBlock() == inner_bb);  // straight-line body (inline math makes no blocks)
  llvm::BranchInst* back = b.CreateCondBr(b.CreateICmpULT(j_next, jend), inner_bb, latch_bb);
  // (No llvm.loop.vectorize.enable: with it LLVM prints a warning for every loop it cannot vectorise,
  // such as loops calling tanhf; the cost model vectorises the others anyway.)
  declare_parallel(back, group);

  b.SetInsertPoint(latch_bb);
  llvm::Value* i_next = b.CreateNUWAdd(i, b.CreateNUWSub(jend, j0), "i.next");
  i->addIncoming(i_next, latch_bb);
  b.CreateCondBr(b.CreateICmpSLT(i_next, f.end), row_bb, exit_bb);

  b.SetInsertPoint(exit_bb);
  b.CreateRetVoid();
  return finish_function(f.fn, name);
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
