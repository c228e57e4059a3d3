// `fcrun -n N ...`: starts N ranks of this same fcrun through mpirun on this machine. Under an
// existing launcher (mpirun, srun) fcrun runs as one rank as-is.
#pragma once

#include <string>
#include <vector>

namespace fc::cli {

// True when this process was started by an MPI launcher (OpenMPI, PMI/PMIx, Slurm).
bool under_mpi_launcher();

// Whether the user sees this process's stdout on a terminal. OpenMPI gives its ranks a pty even when
// mpirun's own output goes to a file, so `fcrun -n N` tells its ranks what its own stdout is
// (FC_STDOUT_IS_TTY=0|1); under a foreign launcher, isatty of this process's stdout.
bool stdout_is_terminal();

// Replaces this process with `mpirun -n N [root/oversubscribe options] [mpirun_args] fcrun ARGS`.
// Returns only on failure (throws fc::Error).
[[noreturn]] void exec_under_mpirun(int ranks, const std::vector<std::string>& fcrun_args,
                                    const std::vector<std::string>& mpirun_args);

}  // namespace fc::cli
