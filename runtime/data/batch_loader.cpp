// BatchLoader: gathers this rank's rows of each global batch into contiguous tensors on a
// background thread (Prefetcher), so that copying overlaps compute. Token data (tokens.h) draw
// windows at offsets hashed from (seed, step, sample) instead of walking an order. Step s is batch
// s % steps_per_epoch of epoch s / steps_per_epoch and depends on nothing else, which is what makes
// a resumed run (start_step) see exactly the batches an uninterrupted one would.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "support/error.h"
#include "runtime/data/dataset.h"
#include "runtime/data/prefetcher.h"
#include "runtime/data/tokens.h"
#include "runtime/trace.h"

namespace fc::runtime::data {

namespace {

// Storage for made batches, recycled: a 64 x 3 x 224 x 224 float batch is 38 MB, which malloc maps
// fresh from the kernel each time (and a new tensor zero-fills), so that page faults took a fifth
// of the loader's time. A buffer comes back here when the last tensor on it goes, which may be
// after the loader is gone (each buffer's deleter holds the pool).
class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  explicit BufferPool(size_t floats) : floats_(floats) {}

  // A buffer of `floats` floats, contents undefined.
  std::shared_ptr<float> take() {
    std::unique_ptr<float[]> b;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        b = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!b) b.reset(new float[floats_]);
    return std::shared_ptr<float>(b.release(), [pool = shared_from_this()](float* p) { pool->give(p); });
  }

 private:
  void give(float* p) {
    std::unique_ptr<float[]> b(p);
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < kMaxFree) free_.push_back(std::move(b));
  }

  static constexpr size_t kMaxFree = 8;
  const size_t floats_;
  std::mutex mu_;
  std::vector<std::unique_ptr<float[]>> free_;
};

// The producer thread (and the decoding threads it starts, which inherit its policy) runs as
// SCHED_BATCH: the same share of the CPU as any thread, but its wake-ups never preempt a running
// one. Without it, on cores shared with compute, the producer woken by next() took the core from
// the main thread inside next() to make a batch needed steps later (traces showed 1-8 ms "next
// batch" waits with 4 batches queued). A nice value removed those waits too but starved the loader
// beside other processes (bench/RESULTS.md). Linux-only hint: failure changes nothing else.
void run_as_batch_thread() {
  sched_param param{};
  param.sched_priority = 0;
  (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
}

}  // namespace

struct BatchLoader::Impl {
  Dataset ds;  // shares the tensors' storage with the caller's dataset
  int64_t global_batch = 0, local_batch = 0, steps_per_epoch = 0;
  bool shuffle = true;
  uint64_t seed = 0;
  int rank = 0;
  // The order of the epoch being produced; used by the producer thread only.
  int64_t order_epoch = -1;
  std::vector<int64_t> order;
  std::shared_ptr<BufferPool> pool;  // made batches' storage
  std::unique_ptr<Prefetcher<Batch>> prefetcher;  // last: stopped before the fields above go

  int64_t step_first(int64_t index) const { return index * global_batch + rank * local_batch; }

  // Rows order[first .. first + G/R) of `all`, copied into one [G/R, ...] tensor.
  ir::Tensor gather(const ir::Tensor& all, int64_t first) const {
    std::vector<int64_t> dims = all.dims();
    dims[0] = local_batch;
    ir::Tensor out(all.dtype(), dims);
    const size_t row_bytes = all.nbytes() / static_cast<size_t>(all.dim(0));
    const auto* src = static_cast<const std::byte*>(all.raw());
    auto* dst = static_cast<std::byte*>(out.raw());
    for (int64_t k = 0; k < local_batch; ++k) {
      const auto sample = static_cast<size_t>(order[static_cast<size_t>(first + k)]);
      std::memcpy(dst + static_cast<size_t>(k) * row_bytes, src + sample * row_bytes, row_bytes);
    }
    return out;
  }

  // Samples order[first .. first + G/R) made by the dataset's source (decoded, augmented images).
  ir::Tensor made(int64_t first, int64_t epoch) {
    std::vector<int64_t> dims = ds.source->sample_shape();
    dims.insert(dims.begin(), local_batch);
    size_t floats = 1;
    for (int64_t d : dims) floats *= static_cast<size_t>(d);
    if (!pool) pool = std::make_shared<BufferPool>(floats);
    std::shared_ptr<float> storage = pool->take();
    float* data = storage.get();
    ds.source->fill(order.data() + first, local_batch, seed, epoch, data);  // writes every element
    return ir::Tensor::external(data, ir::DType::F32, dims, std::move(storage));
  }

  // Step s: rows order[b*G + r*G/R .. + G/R) of epoch e, copied into x: [G/R, ...] and y: [G/R, ...].
  Batch make(int64_t step) {
    TraceScope trace("data", "make batch", Tracer::kLoaderThread);
    const int64_t epoch = step / steps_per_epoch, index = step % steps_per_epoch;
    if (epoch != order_epoch) {
      order = epoch_order(ds.size(), shuffle, seed, epoch);
      order_epoch = epoch;
    }
    Batch b;
    b.epoch = epoch;
    b.index_in_epoch = index;
    if (ds.tokens) {
      windows(step, b);
      return b;
    }
    b.x = ds.source ? made(step_first(index), epoch) : gather(ds.x, step_first(index));
    b.y = gather(ds.y, step_first(index));
    return b;
  }

  // Token data: sample k of the global batch of step s is the window at token_window_offset(seed, s,
  // k); this rank takes k in [r*G/R, (r+1)*G/R). x: ids [G/R, block], y: the next ids.
  void windows(int64_t step, Batch& b) const {
    const int64_t block = ds.block, tokens = ds.tokens->size();
    b.x = ir::Tensor(ir::DType::I64, {local_batch, block});
    b.y = ir::Tensor(ir::DType::I64, {local_batch, block});
    std::vector<int64_t> window(static_cast<size_t>(block + 1));
    for (int64_t i = 0; i < local_batch; ++i) {
      const int64_t offset = token_window_offset(seed, step, rank * local_batch + i, tokens, block);
      ds.tokens->read(offset, block + 1, window.data());
      std::copy(window.begin(), window.end() - 1, b.x.data<int64_t>() + i * block);
      std::copy(window.begin() + 1, window.end(), b.y.data<int64_t>() + i * block);
    }
  }
};

BatchLoader::BatchLoader(const Dataset& ds, int64_t global_batch, bool shuffle, uint64_t seed, int rank, int world,
                         int64_t start_step, int prefetch) {
  FC_CHECK(ds.size() > 0 && (ds.tokens || ((ds.x.defined() || ds.source) && ds.y.defined())), "batch loader: empty dataset");
  FC_CHECK(ds.tokens || (ds.y.rank() >= 1 && ds.y.dim(0) == ds.size()), "batch loader: ", ds.size(),
           " samples but ", ds.y.rank() ? ds.y.dim(0) : 0, " labels");
  FC_CHECK(world >= 1 && rank >= 0 && rank < world, "batch loader: rank ", rank, " outside a world of ", world);
  FC_CHECK(global_batch > 0, "[train] batch_size: must be > 0, got ", global_batch);
  FC_CHECK(global_batch % world == 0, "[train] batch_size: the global batch ", global_batch,
           " does not divide evenly among ", world, " ranks (use a multiple of ", world, ")");
  FC_CHECK(global_batch <= ds.size(), "[train] batch_size: the global batch ", global_batch,
           " is larger than the training set (", ds.size(), " samples)");
  FC_CHECK(start_step >= 0, "batch loader: negative start step ", start_step);
  FC_CHECK(prefetch >= 1, "batch loader: prefetch must be >= 1, got ", prefetch);
  auto impl = std::make_unique<Impl>();
  impl->ds = ds;
  impl->global_batch = global_batch;
  impl->local_batch = global_batch / world;
  impl->steps_per_epoch = ds.size() / global_batch;  // the partial last batch is dropped
  impl->shuffle = shuffle;
  impl->seed = seed;
  impl->rank = rank;
  Impl* p = impl.get();
  impl->prefetcher = std::make_unique<Prefetcher<Batch>>(
      [p, first = start_step](int64_t step) {
        if (step == first) run_as_batch_thread();
        return p->make(step);
      },
      start_step, static_cast<size_t>(prefetch));
  impl_ = impl.release();
}

BatchLoader::~BatchLoader() { delete impl_; }

Batch BatchLoader::next() { return impl_->prefetcher->next(); }

int64_t BatchLoader::steps_per_epoch() const { return impl_->steps_per_epoch; }

}  // namespace fc::runtime::data
