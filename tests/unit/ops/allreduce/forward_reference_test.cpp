// fc.AllReduce in one process. The sum over the data-parallel ranks of one rank is that rank's
// value, so the reference is the input itself, bit for bit (an exact op: tolerance 0), for every
// input of a bucket, in order. A unit test runs without a data-parallel context
// (runtime/data_parallel.h: none is installed), which is how one process trains, and a
// one-rank context takes the same branch of the kernel (size() == 1). The sums over several ranks
// need MPI ranks and are checked by tests/distrib/allreduce_mpi_test.cpp under mpirun.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "op_test_util.h"
#include "ops_math_test_util.h"
#include "runtime/data_parallel.h"

using namespace fc;
using namespace fc::test::math;
using fc::ir::Tensor;

namespace {

TEST(AllReduceForward, OneProcessSumIsTheInputItself) {
  ASSERT_EQ(runtime::data_parallel(), nullptr);
  Tensor special = Tensor::from_vector<float>({4}, {std::numeric_limits<float>::quiet_NaN(), -0.0f,
                                                    std::numeric_limits<float>::infinity(), 1e-45f});
  const std::vector<Tensor> bucket = {random_f32({3, 5}, 1), random_f32({7}, 2), random_f32({}, 3), special,
                                      random_f32({100, 100}, 4)};
  for (const char* algorithm : {"auto", "ring", "tree"}) {
    SCOPED_TRACE(algorithm);
    const test::OpRun r = test::run_op("fc.AllReduce", bucket, {{"algorithm", std::string(algorithm)}},
                                       static_cast<int>(bucket.size()));
    ASSERT_EQ(r.outputs.size(), bucket.size());
    for (size_t i = 0; i < bucket.size(); ++i) {
      SCOPED_TRACE(i);
      ASSERT_EQ(r.outputs[i].dims(), bucket[i].dims());
      ASSERT_EQ(r.outputs[i].dtype(), ir::DType::F32);
      EXPECT_EQ(r.inferred[i], bucket[i].type());
      EXPECT_EQ(std::memcmp(r.outputs[i].raw(), bucket[i].raw(), bucket[i].nbytes()), 0);
    }
  }
}

}  // namespace
