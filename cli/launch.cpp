#include "cli/launch.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "support/error.h"
#include "runtime/cpu/cpu_backend.h"

namespace fc::cli {

bool under_mpi_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_PROCID"})
    if (std::getenv(v)) return true;
  return false;
}

namespace {
constexpr const char* kStdoutIsTty = "FC_STDOUT_IS_TTY";
}

bool stdout_is_terminal() {
  if (const char* v = std::getenv(kStdoutIsTty); v && (v[0] == '0' || v[0] == '1') && !v[1]) return v[0] == '1';
  return isatty(STDOUT_FILENO) == 1;
}

void exec_under_mpirun(int ranks, const std::vector<std::string>& fcrun_args,
                       const std::vector<std::string>& mpirun_args) {
  FC_CHECK(ranks >= 1, "fcrun: -n ", ranks, ": need at least one rank");
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  FC_CHECK(len > 0, "fcrun: cannot find my own executable: ", std::strerror(errno));
  self[len] = '\0';
  std::vector<std::string> args = {"mpirun", "-n", std::to_string(ranks)};
  if (geteuid() == 0) args.push_back("--allow-run-as-root");  // OpenMPI refuses root otherwise
  if (ranks > runtime::cpu::available_cores()) args.push_back("--oversubscribe");
  // One core per rank unless the user binds otherwise; ranks then use one thread each.
  args.insert(args.end(), {"--bind-to", "none"});
  // (OpenMPI's TCP eager limit is raised by every rank itself: Communicator::init.)
  // The ranks learn what the user's stdout is (stdout_is_terminal); -x exports it to other hosts too.
  FC_CHECK(::setenv(kStdoutIsTty, stdout_is_terminal() ? "1" : "0", 1) == 0, "fcrun: setenv failed");
  args.insert(args.end(), {"-x", kStdoutIsTty});
  args.insert(args.end(), mpirun_args.begin(), mpirun_args.end());
  args.push_back(self);
  args.insert(args.end(), fcrun_args.begin(), fcrun_args.end());
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  execvp("mpirun", cargs.data());
  fail("fcrun: cannot start mpirun (", std::strerror(errno), "); is openmpi-bin installed?");
}

}  // namespace fc::cli
