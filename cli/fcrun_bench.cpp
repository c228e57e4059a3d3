#include "cli/fcrun_bench.h"

#include <cctype>
#include <cstdio>
#include <optional>
#include <sstream>

#include "cli/bucketing_model.h"
#include "cli/cli_common.h"
#include "cli/launch.h"
#include "distrib/bench.h"
#include "distrib/cost_model.h"
#include "distrib/probe.h"
#include "support/error.h"

namespace fc::cli {

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

// The interconnect whose cost model predictions go beside the measurements: --interconnect NAME (a
// preset) or --alpha-us A --bandwidth-gbps B (both); none when no flag is given.
std::optional<distrib::Interconnect> model_interconnect(const Args& args) {
  const auto preset = args.get("--interconnect");
  const auto alpha = args.get("--alpha-us"), bandwidth = args.get("--bandwidth-gbps");
  FC_CHECK(!(preset && (alpha || bandwidth)), "fcrun bench allreduce: give --interconnect NAME or --alpha-us and "
                                              "--bandwidth-gbps, not both");
  if (preset) return distrib::interconnect_preset(*preset);
  if (!alpha && !bandwidth) return std::nullopt;
  FC_CHECK(alpha && bandwidth, "fcrun bench allreduce: --alpha-us and --bandwidth-gbps go together");
  return distrib::custom_interconnect(parse_positive(*alpha, "fcrun bench allreduce: --alpha-us"),
                                      parse_positive(*bandwidth, "fcrun bench allreduce: --bandwidth-gbps"));
}

}  // namespace

size_t parse_bytes(const std::string& text, const std::string& what) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  FC_CHECK(digits > 0 && digits <= 15, what, ": '", text, "' is not a byte count (e.g. 4096, 4KiB, 64MiB)");
  const double number = std::stod(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  static const std::pair<const char*, double> units[] = {
      {"", 1}, {"B", 1}, {"KiB", 1024.0}, {"MiB", 1024.0 * 1024}, {"GiB", 1024.0 * 1024 * 1024},
      {"KB", 1e3}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}};
  for (const auto& [name, scale] : units)
    if (unit == name) return static_cast<size_t>(number * scale);
  fail(what, ": unknown unit '", unit, "' in '", text, "' (use B, KiB, MiB, GiB, KB, MB or GB)");
}

int cmd_bench(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "loader") return cmd_bench_loader(argv);
  Args args(argv, {"--algorithm", "--bytes", "--iters", "--interconnect", "--alpha-us", "--bandwidth-gbps"}, {},
            "fcrun bench");
  FC_CHECK(args.positionals().size() == 1 && args.positionals()[0] == "allreduce",
           "fcrun bench: usage: fcrun bench allreduce [-n N] --algorithm A --bytes B [--iters K] "
           "[--interconnect NAME | --alpha-us A --bandwidth-gbps B]");
  FC_CHECK(args.has("--algorithm") && args.has("--bytes"), "fcrun bench allreduce: --algorithm and --bytes are required");
  std::vector<distrib::AllreduceAlgorithm> algorithms;
  for (const std::string& name : split_list(*args.get("--algorithm"))) {
    if (name == "all") {
      const auto& every = distrib::all_allreduce_algorithms();
      algorithms.insert(algorithms.end(), every.begin(), every.end());
    } else {
      algorithms.push_back(distrib::allreduce_algorithm_from_string(name));
    }
  }
  std::vector<size_t> sizes;
  for (const std::string& b : split_list(*args.get("--bytes"))) sizes.push_back(parse_bytes(b, "--bytes"));
  FC_CHECK(!algorithms.empty() && !sizes.empty(), "fcrun bench allreduce: empty --algorithm or --bytes list");
  const int iters = args.get("--iters") ? parse_int(*args.get("--iters"), "--iters") : 20;
  FC_CHECK(iters >= 1, "--iters: must be >= 1, got ", iters);
  std::optional<distrib::Interconnect> model = model_interconnect(args);
  const distrib::Communicator& comm = distrib::Communicator::world();
  if (model) {
    // The ranks as they sit: the shared-memory algorithm's time depends on how many share a host.
    const int per_host = comm.split_shared().size();
    model = placed_on_hosts(*model, comm.size(), per_host);
  }
  for (size_t bytes : sizes)
    for (distrib::AllreduceAlgorithm a : algorithms) {
      distrib::AllreduceBenchResult r = distrib::run_allreduce_bench(comm, a, bytes, iters);
      if (model) r.predicted_seconds = distrib::predicted_allreduce_seconds(a, *model, static_cast<double>(r.bytes));
      if (comm.is_root()) {
        std::printf("%s\n", distrib::to_json_line(r).c_str());
        std::fflush(stdout);
      }
    }
  return 0;
}

int cmd_probe(const std::vector<std::string>& argv) {
  Args args(argv, {"--max-bytes", "--iters"}, {}, "fcrun probe");
  FC_CHECK(args.positionals().empty(), "fcrun probe: unexpected argument '",
           args.positionals().empty() ? "" : args.positionals()[0], "'");
  const size_t max_bytes = args.get("--max-bytes") ? parse_bytes(*args.get("--max-bytes"), "--max-bytes")
                                                   : size_t{16} << 20;
  const int iters = args.get("--iters") ? parse_int(*args.get("--iters"), "--iters") : 20;
  // Checked before MPI starts: a singleton MPI process that fails leaves launcher noise on stderr.
  FC_CHECK(under_mpi_launcher(), "fcrun probe needs at least 2 ranks (fcrun probe -n 2)");
  const distrib::Communicator& comm = distrib::Communicator::world();
  const distrib::ProbeResult r = distrib::probe_interconnect(comm, max_bytes, iters);
  if (comm.is_root()) {
    std::printf("# %d ranks on %s; one-way times (median of %d ping-pongs between ranks 0 and 1):\n", comm.size(),
                distrib::Communicator::processor_name().c_str(), iters);
    for (size_t i = 0; i < r.bytes.size(); ++i)
      std::printf("#   %10zu bytes  %10.1f us\n", r.bytes[i], r.seconds[i] * 1e6);
    std::printf("[distributed]\n%s\n", distrib::to_recipe_line(r).c_str());
  }
  return 0;
}

}  // namespace fc::cli
