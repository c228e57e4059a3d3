#include "runtime/data_parallel.h"

#include "ir/error.h"

namespace fc::runtime {

namespace {
DataParallel* g_data_parallel = nullptr;
}

DataParallel::DataParallel(const distrib::Communicator& comm, distrib::AllreduceAlgorithm default_algorithm)
    : comm_(comm), default_(default_algorithm) {}

DataParallel::~DataParallel() = default;

distrib::Allreducer& DataParallel::reducer(const std::string& algorithm) {
  const distrib::AllreduceAlgorithm a =
      algorithm.empty() || algorithm == "auto" ? default_ : distrib::allreduce_algorithm_from_string(algorithm);
  auto& r = reducers_[a];
  if (!r) r = std::make_unique<distrib::Allreducer>(comm_, a);
  return *r;
}

void DataParallel::sum_doubles(double* data, size_t count) const {
  if (comm_.size() > 1 && count)
    FC_MPI(MPI_Allreduce, MPI_IN_PLACE, data, static_cast<int>(count), MPI_DOUBLE, MPI_SUM, comm_.comm());
}

DataParallel* data_parallel() { return g_data_parallel; }
void set_data_parallel(DataParallel* dp) { g_data_parallel = dp; }

}  // namespace fc::runtime
