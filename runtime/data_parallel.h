// The data-parallel context of this process: the communicator of the ranks that train together,
// one Allreducer per algorithm, kept between steps (scratch memory, shared-memory windows), and the
// communication thread. The trainer installs it; kernels that communicate (fc.AllReduce,
// synchronised BatchNorm) read it. Without it, or with one rank, those kernels compute what one
// process alone computes.
//
// Every MPI call during training runs on the one communication thread, in submission order: the
// gradient allreduces the executor starts while backward goes on, and the small reductions
// (BatchNorm statistics, the loss, evaluation sums) the main thread waits for. One thread calling
// MPI at a time is what MPI_THREAD_SERIALIZED allows, and the submission order is the executor's
// node order, the same on every rank, so collectives match.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <memory>
#include <string>

#include "distrib/allreduce.h"
#include "distrib/communicator.h"
#include "ir/tensor.h"

namespace fc::runtime {

class DataParallel {
 public:
  DataParallel(const distrib::Communicator& comm, distrib::AllreduceAlgorithm default_algorithm);
  ~DataParallel();
  const distrib::Communicator& comm() const { return comm_; }
  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  // "auto" selects the default algorithm.
  distrib::Allreducer& reducer(const std::string& algorithm);
  // In-place sum across ranks of a small double array (BatchNorm statistics, losses); runs on the
  // communication thread and waits for it.
  void sum_doubles(double* data, size_t count);
  // Runs `work` on the communication thread after everything submitted before it.
  std::future<void> submit(std::function<void()> work);
  // Memory for the gradient buckets of one training step, `floats` floats (collective: every rank
  // asks once, with the same size). It is the shared-memory allreduce's arena, so a bucket there
  // is reduced in place without copies by "shm" and needs none by the other algorithms either.
  // Valid while this object lives; a second request is an error (its views would dangle).
  ir::Tensor bucket_arena(size_t floats);

 private:
  void comm_loop();

  const distrib::Communicator& comm_;
  distrib::AllreduceAlgorithm default_;
  std::map<distrib::AllreduceAlgorithm, std::unique_ptr<distrib::Allreducer>> reducers_;
  bool arena_given_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<void()>> queue_;
  bool stopping_ = false;
  std::thread comm_thread_;  // last: started after, joined before, the fields above
};

// The process-wide context (null when training on one process without a communicator).
DataParallel* data_parallel();
void set_data_parallel(DataParallel* dp);

}  // namespace fc::runtime
