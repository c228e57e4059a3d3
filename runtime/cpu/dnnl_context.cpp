#include "runtime/cpu/dnnl_context.h"

#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

namespace fc::runtime::cpu {

dnnl::engine& dnnl_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& dnnl_stream() {
  static dnnl::stream stream(dnnl_engine());
  return stream;
}

dnnl::memory::dims to_dnnl_dims(const std::vector<int64_t>& v) { return dnnl::memory::dims(v.begin(), v.end()); }

dnnl::memory::desc plain_desc(const std::vector<int64_t>& dims, dnnl::memory::data_type type) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return strided_desc(dims, strides, type);
}

dnnl::memory::desc strided_desc(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                                dnnl::memory::data_type type) {
  return dnnl::memory::desc(to_dnnl_dims(dims), type, to_dnnl_dims(strides));
}

dnnl::memory::desc any_desc(const std::vector<int64_t>& dims, dnnl::memory::data_type type) {
  return dnnl::memory::desc(to_dnnl_dims(dims), type, dnnl::memory::format_tag::any);
}

dnnl::memory::data_type dnnl_type(ir::DType t) {
  FC_CHECK(t == ir::DType::F32 || t == ir::DType::BF16, "oneDNN operands: no ", ir::dtype_name(t), " path");
  return t == ir::DType::BF16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32;
}

dnnl::memory wrap(const ir::Tensor& t, const dnnl::memory::desc& desc) {
  // oneDNN takes a mutable handle even for inputs it only reads.
  return dnnl::memory(desc, dnnl_engine(), const_cast<void*>(t.raw()));
}

void execute(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args) {
  p.execute(dnnl_stream(), args);
  dnnl_stream().wait();
}

namespace {

// This thread's scratch buffers, one per bridge slot, each as large as the largest user so far.
struct ScratchSlots {
  std::vector<std::unique_ptr<std::byte, decltype(&std::free)>> buffers;
  std::vector<size_t> sizes;
  size_t next_slot = 0;  // the slot the next bridge built takes
};

ScratchSlots& scratch_slots() {
  thread_local ScratchSlots slots;
  return slots;
}

void* slot_buffer(size_t slot, size_t bytes) {
  ScratchSlots& s = scratch_slots();
  if (s.buffers.size() <= slot) {
    while (s.buffers.size() <= slot) s.buffers.emplace_back(nullptr, &std::free);
    s.sizes.resize(slot + 1, 0);
  }
  if (s.sizes[slot] < bytes) {
    const size_t rounded = (bytes + 4095) / 4096 * 4096;
    s.buffers[slot].reset(static_cast<std::byte*>(std::aligned_alloc(4096, rounded)));
    if (!s.buffers[slot]) throw std::bad_alloc();
    s.sizes[slot] = rounded;
  }
  return s.buffers[slot].get();
}

}  // namespace

void begin_kernel_build() { scratch_slots().next_slot = 0; }

LayoutBridge::LayoutBridge(const dnnl::memory::desc& plain, const dnnl::memory::desc& chosen, Dir dir)
    : plain_(plain), chosen_(chosen) {
  if (plain == chosen) return;
  slot_ = scratch_slots().next_slot++;
  scratch_ = dnnl::memory(chosen, dnnl_engine(), DNNL_MEMORY_NONE);
  const dnnl::engine& e = dnnl_engine();
  reorder_ = dnnl::reorder(dir == Dir::In ? dnnl::reorder::primitive_desc(e, plain, e, chosen)
                                          : dnnl::reorder::primitive_desc(e, chosen, e, plain));
}

dnnl::memory& LayoutBridge::scratch() {
  scratch_.set_data_handle(slot_buffer(slot_, chosen_.get_size()));
  return scratch_;
}

dnnl::memory LayoutBridge::input(const ir::Tensor& t) {
  if (!reorders()) return wrap(t, chosen_);
  dnnl::memory src = wrap(t, plain_);
  execute(reorder_, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, scratch()}});
  return scratch_;
}

dnnl::memory LayoutBridge::output(ir::Tensor& t) { return reorders() ? scratch() : wrap(t, chosen_); }

void LayoutBridge::output_done(ir::Tensor& t) {
  if (!reorders()) return;
  dnnl::memory dst = wrap(t, plain_);
  execute(reorder_, {{DNNL_ARG_FROM, scratch_}, {DNNL_ARG_TO, dst}});
}

ReorderedConstant::ReorderedConstant(const ir::Tensor& t, const dnnl::memory::desc& plain,
                                     const dnnl::memory::desc& chosen)
    : plain_(plain), mem_(chosen, dnnl_engine()) {
  const dnnl::engine& e = dnnl_engine();
  reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(e, plain, e, chosen));
  reorder_from(t);
}

const dnnl::memory& ReorderedConstant::get(const ir::Tensor& current) {
  if (!current.same_storage(source_)) reorder_from(current);
  return mem_;
}

void ReorderedConstant::reorder_from(const ir::Tensor& t) {
  execute(reorder_, {{DNNL_ARG_FROM, wrap(t, plain_)}, {DNNL_ARG_TO, mem_}});
  source_ = t;
}

}  // namespace fc::runtime::cpu
