// The data-parallel context of this process: the communicator of the ranks that train together and
// one Allreducer per algorithm, kept between steps (scratch memory, shared-memory windows). The
// trainer installs it; kernels that communicate (fc.AllReduce, synchronised BatchNorm) read it.
// Without it, or with one rank, those kernels compute what one process alone computes.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "distrib/allreduce.h"
#include "distrib/communicator.h"

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
  // In-place sum across ranks of a small double array (BatchNorm statistics, losses).
  void sum_doubles(double* data, size_t count) const;

 private:
  const distrib::Communicator& comm_;
  distrib::AllreduceAlgorithm default_;
  std::map<distrib::AllreduceAlgorithm, std::unique_ptr<distrib::Allreducer>> reducers_;
};

// The process-wide context (null when training on one process without a communicator).
DataParallel* data_parallel();
void set_data_parallel(DataParallel* dp);

}  // namespace fc::runtime
