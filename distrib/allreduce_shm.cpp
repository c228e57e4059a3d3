// Shared-memory allreduce over an MPI shared window, hierarchical over hosts (see allreduce_shm.h).
#include "distrib/allreduce_shm.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "distrib/allreduce_detail.h"
#include "support/error.h"

namespace fc::distrib {

namespace {
// Slices are summed block by block so that one block of every slot stays in cache while it is
// read, summed and written twice (result area and own buffer).
constexpr size_t kBlockFloats = 4096;

void copy_floats(float* dst, const float* src, size_t n) {
  if (n > 0) std::memcpy(dst, src, n * sizeof(float));
}
}  // namespace

SharedMemoryAllreduce::SharedMemoryAllreduce(const Communicator& comm, const AllreduceOptions& options)
    : local_(comm.split_shared()), leaders_(MPI_COMM_NULL), chunk_floats_(options.shm_chunk_floats) {
  FC_CHECK(options.inter_host != AllreduceAlgorithm::SharedMemory,
           "the shared-memory allreduce needs another algorithm between hosts, not \"shm\"");
  FC_CHECK(options.ranks_per_host >= 0, "ranks_per_host must be >= 0, got ", options.ranks_per_host);
  if (options.ranks_per_host > 0) local_ = local_.split(local_.rank() / options.ranks_per_host, local_.rank());
  leaders_ = comm.split(local_.rank() == 0 ? 0 : -1, comm.rank());
  if (leaders_.valid() && leaders_.size() > 1) {
    AllreduceOptions inner = options;
    inner.ranks_per_host = 0;
    inter_host_ = std::make_unique<Allreducer>(leaders_, options.inter_host, inner);
  }
  // Every local rank must know whether there are other hosts (a third barrier, a full copy-out).
  int hosts = leaders_.valid() ? leaders_.size() : 0;
  FC_MPI(MPI_Bcast, &hosts, 1, MPI_INT, 0, local_.comm());
  multi_host_ = hosts > 1;
}

namespace {

// A shared window over `local` in which this rank owns `floats` floats (passive-target epoch open
// for the window's lifetime); parts[k] receives local rank k's part.
MPI_Win allocate_shared_window(const Communicator& local, size_t floats, std::vector<float*>& parts) {
  void* base = nullptr;
  MPI_Win window = MPI_WIN_NULL;
  FC_MPI(MPI_Win_allocate_shared, static_cast<MPI_Aint>(floats * sizeof(float)), static_cast<int>(sizeof(float)),
         MPI_INFO_NULL, local.comm(), &base, &window);
  FC_MPI(MPI_Win_set_errhandler, window, MPI_ERRORS_RETURN);
  FC_MPI(MPI_Win_lock_all, MPI_MODE_NOCHECK, window);
  parts.assign(static_cast<size_t>(local.size()), nullptr);
  for (int k = 0; k < local.size(); ++k) {
    MPI_Aint size = 0;
    int unit = 0;
    void* part = nullptr;
    FC_MPI(MPI_Win_shared_query, window, k, &size, &unit, &part);
    parts[static_cast<size_t>(k)] = static_cast<float*>(part);
  }
  return window;
}

// Called from the destructor too: reports nothing, the window is gone either way.
void free_shared_window(MPI_Win& window) {
  if (window == MPI_WIN_NULL) return;
  MPI_Win_unlock_all(window);
  MPI_Win_free(&window);
  window = MPI_WIN_NULL;
}

}  // namespace

SharedMemoryAllreduce::~SharedMemoryAllreduce() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  free_window();
  free_shared_window(arena_window_);
}

void SharedMemoryAllreduce::free_window() {
  free_shared_window(window_);
  slots_.clear();
  result_ = nullptr;
  slot_capacity_ = result_capacity_ = 0;
}

void SharedMemoryAllreduce::reserve(size_t slot_floats, size_t result_floats) {
  if (slot_floats <= slot_capacity_ && result_floats <= result_capacity_) return;
  // Grow geometrically so that a run of slowly growing counts does not reallocate every call.
  const auto grow = [](size_t need, size_t have) { return need <= have ? have : std::max(need, 2 * have); };
  const size_t slot_capacity = grow(slot_floats, slot_capacity_);
  const size_t result_capacity = grow(result_floats, result_capacity_);
  free_window();
  const size_t floats = slot_capacity + (local_.rank() == 0 ? result_capacity : 0);
  window_ = allocate_shared_window(local_, floats, slots_);
  result_ = slots_[0] + slot_capacity;
  slot_capacity_ = slot_capacity;
  result_capacity_ = result_capacity;
}

void SharedMemoryAllreduce::sync(MPI_Win window) const {
  // The MPI unified memory model for shared windows: MPI_Win_sync makes our stores visible and
  // others' stores (ordered by the barrier) visible to our loads.
  FC_MPI(MPI_Win_sync, window);
  local_.barrier();
  FC_MPI(MPI_Win_sync, window);
}

void SharedMemoryAllreduce::run(float* data, size_t count) {
  if (count == 0) return;
  const int size = local_.size(), me = local_.rank();
  const size_t chunk = std::clamp<size_t>(chunk_floats_, 1, count);
  const size_t chunks = (count + chunk - 1) / chunk;
  reserve(2 * chunk, multi_host_ ? count : 2 * chunk);
  const auto chunk_range = [&](size_t c) { return detail::Range{c * chunk, std::min(chunk, count - c * chunk)}; };
  // This rank's slice of chunk c: the elements it sums (and the ones it never publishes).
  const auto my_slice = [&](size_t c) {
    const detail::Range whole = chunk_range(c);
    detail::Range slice = detail::partition(whole.count, size, me);
    slice.offset += whole.offset;
    return slice;
  };
  // Where element i of chunk c lives in local rank k's slot and in the result area.
  const auto in_slot = [&](int k, size_t c, size_t i) {
    return slots_[static_cast<size_t>(k)] + (c % 2) * chunk + (i - c * chunk);
  };
  const auto in_result = [&](size_t c, size_t i) {
    return multi_host_ ? result_ + i : result_ + (c % 2) * chunk + (i - c * chunk);
  };
  // Copies chunk c but this rank's slice, between the buffer and a window area (`place`).
  const auto copy_around_slice = [&](size_t c, bool publish, const auto& place) {
    const detail::Range whole = chunk_range(c), slice = my_slice(c);
    const size_t tail = slice.offset + slice.count;
    for (auto [from, n] :
         {std::pair{whole.offset, slice.offset - whole.offset}, std::pair{tail, whole.offset + whole.count - tail}}) {
      if (publish)
        copy_floats(place(from), data + from, n);
      else
        copy_floats(data + from, place(from), n);
    }
  };
  // result[slice] = slot_0 + slot_1 + ... + slot_{L-1} in that order (this rank's own contribution
  // read from its buffer); the sum also lands in its buffer.
  const auto reduce = [&](size_t c) {
    const detail::Range slice = my_slice(c);
    const auto source = [&](int k, size_t i) -> const float* { return k == me ? data + i : in_slot(k, c, i); };
    for (size_t i = slice.offset; i < slice.offset + slice.count; i += kBlockFloats) {
      const size_t n = std::min(kBlockFloats, slice.offset + slice.count - i);
      float* out = in_result(c, i);
      if (size == 1) {
        copy_floats(out, source(0, i), n);
      } else {
        detail::add_to(out, source(0, i), source(1, i), n);
        for (int k = 2; k < size; ++k) detail::add_into(out, source(k, i), n);
      }
      copy_floats(data + i, out, n);
    }
  };
  // Software pipeline, one barrier between steps: in step k a rank publishes chunk k, sums its
  // slice of chunk k-1 (published by all before the barrier) and copies out chunk k-2 (summed by
  // all before it). A ring of two chunks suffices: the slot half written in step k last held chunk
  // k-2, whose readers finished in step k-1; likewise for the result half written in step k.
  const size_t last_step = multi_host_ ? chunks : chunks + 1;
  for (size_t step = 0; step <= last_step; ++step) {
    if (step > 0) sync();
    if (step < chunks) copy_around_slice(step, true, [&](size_t i) { return in_slot(me, step, i); });
    if (step >= 1 && step <= chunks) reduce(step - 1);
    if (!multi_host_ && step >= 2) copy_around_slice(step - 2, false, [&](size_t i) { return in_result(step - 2, i); });
  }
  if (multi_host_) {
    sync();  // every local slice summed
    if (inter_host_) inter_host_->run(result_, count);
    sync();
    copy_floats(data, result_, count);
  }
}

float* SharedMemoryAllreduce::arena(size_t floats) {
  free_shared_window(arena_window_);
  arena_parts_.clear();
  arena_floats_ = 0;
  // A zero-sized part would give no address to tell buffers apart by: keep at least one float.
  arena_window_ = allocate_shared_window(local_, std::max<size_t>(floats, 1), arena_parts_);
  arena_floats_ = floats;
  return arena_parts_[static_cast<size_t>(local_.rank())];
}

bool SharedMemoryAllreduce::in_arena(const float* data, size_t count) const {
  if (arena_parts_.empty() || data == nullptr) return false;
  // Compare addresses as integers: pointers into different objects are not ordered in C++.
  const auto begin = reinterpret_cast<uintptr_t>(arena_parts_[static_cast<size_t>(local_.rank())]);
  const auto at = reinterpret_cast<uintptr_t>(data);
  return at >= begin && at + count * sizeof(float) <= begin + arena_floats_ * sizeof(float);
}

void SharedMemoryAllreduce::run_in_arena(float* data, size_t count) {
  FC_CHECK(in_arena(data, count), "shared-memory allreduce: buffer outside the arena");
  if (count == 0) return;
  const int size = local_.size(), me = local_.rank();
  const size_t offset = static_cast<size_t>(data - arena_parts_[static_cast<size_t>(me)]);
  const auto part = [&](int k) { return arena_parts_[static_cast<size_t>(k)] + offset; };
  sync(arena_window_);  // every local rank's buffer is complete
  detail::Range slice = detail::partition(count, size, me);
  float* sum = part(0);
  for (size_t i = slice.offset; i < slice.offset + slice.count; i += kBlockFloats) {
    const size_t n = std::min(kBlockFloats, slice.offset + slice.count - i);
    // The same order as run(): ((x0 + x1) + x2) + ..., so both paths give bitwise the same sums.
    for (int k = 1; k < size; ++k) detail::add_into(sum + i, part(k) + i, n);
    if (!multi_host_)
      for (int k = 1; k < size; ++k) copy_floats(part(k) + i, sum + i, n);
  }
  sync(arena_window_);
  if (!multi_host_) return;
  if (inter_host_) inter_host_->run(sum, count);
  sync(arena_window_);
  if (me != 0) copy_floats(data, sum, count);
}

}  // namespace fc::distrib
