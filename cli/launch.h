// `fcrun -n N ...`: starts N ranks of this same fcrun through mpirun on this machine. Under an
// existing launcher (mpirun, srun) fcrun runs as one rank as-is.
#pragma once

#include <string>
#include <vector>

namespace fc::cli {

// True when this process was started by an MPI launcher (OpenMPI, PMI/PMIx, Slurm).
bool under_mpi_launcher();

// Replaces this process with `mpirun -n N [root/oversubscribe options] [mpirun_args] fcrun ARGS`.
// Returns only on failure (throws fc::Error).
[[noreturn]] void exec_under_mpirun(int ranks, const std::vector<std::string>& fcrun_args,
                                    const std::vector<std::string>& mpirun_args);

}  // namespace fc::cli
