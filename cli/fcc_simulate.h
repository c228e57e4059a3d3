// `fcc simulate`: predicted data-parallel scaling of a model's training step (passes/scaling_sim.h)
// over worker counts and global batches, for an interconnect (distrib/cost_model.h) and a device
// profile; printed as a table or JSON, optionally plotted as SVG.
#pragma once

#include <string>
#include <vector>

namespace fc::cli {

// argv: the arguments after `fcc simulate`. Returns the exit code; user mistakes throw fc::Error.
int cmd_simulate(const std::vector<std::string>& argv);

// The --help lines of the subcommand.
const char* simulate_help();

}  // namespace fc::cli
