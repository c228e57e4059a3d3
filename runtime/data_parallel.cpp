#include "runtime/data_parallel.h"

#include "support/error.h"
#include "runtime/trace.h"

namespace fc::runtime {

namespace {
DataParallel* g_data_parallel = nullptr;
}

DataParallel::DataParallel(const distrib::Communicator& comm, distrib::AllreduceAlgorithm default_algorithm)
    : comm_(comm), default_(default_algorithm), comm_thread_([this] { comm_loop(); }) {}

DataParallel::~DataParallel() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  comm_thread_.join();
}

std::future<void> DataParallel::submit(std::function<void()> work) {
  std::packaged_task<void()> task(std::move(work));
  std::future<void> done = task.get_future();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
  return done;
}

void DataParallel::comm_loop() {
  for (;;) {
    std::packaged_task<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();  // an exception reaches whoever waits on the future
  }
}

distrib::Allreducer& DataParallel::reducer(const std::string& algorithm) {
  const distrib::AllreduceAlgorithm a =
      algorithm.empty() || algorithm == "auto" ? default_ : distrib::allreduce_algorithm_from_string(algorithm);
  auto& r = reducers_[a];
  if (!r) r = std::make_unique<distrib::Allreducer>(comm_, a);
  return *r;
}

ir::Tensor DataParallel::bucket_arena(size_t floats) {
  FC_CHECK(!arena_given_, "the gradient bucket arena is requested twice (one training executor per job)");
  arena_given_ = true;
  float* data = nullptr;
  submit([&] { data = reducer("shm").arena(floats); }).get();
  return ir::Tensor::external(data, ir::DType::F32, {static_cast<int64_t>(floats)}, nullptr);
}

void DataParallel::sum_doubles(double* data, size_t count) {
  if (comm_.size() <= 1 || !count) return;
  submit([&] {
    TraceScope trace("reduce", "sum_doubles", Tracer::kCommThread);
    FC_MPI(MPI_Allreduce, MPI_IN_PLACE, data, static_cast<int>(count), MPI_DOUBLE, MPI_SUM, comm_.comm());
  }).get();
}

DataParallel* data_parallel() { return g_data_parallel; }
void set_data_parallel(DataParallel* dp) { g_data_parallel = dp; }

}  // namespace fc::runtime
