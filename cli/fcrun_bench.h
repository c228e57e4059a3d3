// `fcrun bench allreduce` and `fcrun probe`: measurements of this machine's communication, run on
// the ranks that `fcrun -n N` starts (or that an existing mpirun started).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fc::cli {

// fcrun bench allreduce --algorithm A[,B..|all] --bytes B[,B..] [--iters K]
//   [--interconnect NAME | --alpha-us A --bandwidth-gbps B]: one JSON line per algorithm and size,
// printed by rank 0; with an interconnect, each line also holds the cost model's predicted_seconds.
int cmd_bench(const std::vector<std::string>& argv);
// fcrun bench loader DIR [--size S] [--threads T] [--batch B] [--batches K]: one JSON line, the
// image-folder loader's decoded, augmented samples per second (cli/fcrun_bench_loader.cpp).
int cmd_bench_loader(const std::vector<std::string>& argv);
// fcrun probe [--max-bytes B] [--iters K]: alpha and bandwidth in the recipe's interconnect form.
int cmd_probe(const std::vector<std::string>& argv);

// "4096", "4KiB", "64MiB", "1GiB", "1MB" (10^6), ... -> bytes. Throws fc::Error naming `what`.
size_t parse_bytes(const std::string& text, const std::string& what);

}  // namespace fc::cli
