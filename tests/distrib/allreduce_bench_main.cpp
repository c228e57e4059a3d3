// Stand-alone allreduce bench for measuring this machine (not a test): prints one JSON line per
// algorithm and size. Usage: mpirun -n N fc_allreduce_bench [ITERS] [BYTES...] [--algorithms a,b] [--shm-chunk FLOATS]
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "distrib/bench.h"

int main(int argc, char** argv) {
  using namespace fc::distrib;
  try {
    const Communicator& comm = Communicator::world();
    int iters = 20;
    std::vector<size_t> sizes;
    std::vector<AllreduceAlgorithm> algorithms = all_allreduce_algorithms();
    AllreduceOptions options;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--algorithms" && i + 1 < argc) {
        algorithms.clear();
        std::stringstream list(argv[++i]);
        for (std::string name; std::getline(list, name, ',');)
          algorithms.push_back(allreduce_algorithm_from_string(name));
      } else if (arg == "--shm-chunk" && i + 1 < argc) {
        options.shm_chunk_floats = std::strtoull(argv[++i], nullptr, 10);
      } else if (i == 1) {
        iters = std::atoi(argv[i]);
      } else {
        sizes.push_back(std::strtoull(argv[i], nullptr, 10));
      }
    }
    if (sizes.empty()) sizes = {4096, 1 << 20, 4 << 20, 64 << 20};
    for (size_t bytes : sizes)
      for (AllreduceAlgorithm a : algorithms) {
        const AllreduceBenchResult result = run_allreduce_bench(comm, a, bytes, iters, options);
        if (comm.is_root()) std::printf("%s\n", to_json_line(result).c_str());
        std::fflush(stdout);
      }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    fc::distrib::Communicator::world().abort(1);
  }
  return 0;
}
