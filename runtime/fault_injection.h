// Test-only fault injection (issue 22): lets tests/e2e/check_fault_injection.py kill or stop one
// rank exactly inside a phase of training instead of timing a signal from progress lines. Unset,
// it costs one branch on a cached bool at each hook point and does nothing else.
//
//   FC_FAULT_INJECT="rank=R,phase=P,step=S,signal=G"
//
//   rank    the rank that acts (every rank of the job reads the variable; the others ignore it)
//   phase   forward     after the first node of training step S has run (the executor)
//           allreduce   on the communication thread as it starts a bucket's allreduce of step S,
//                       the other ranks inside the same collective waiting on this one
//           checkpoint  in the middle of writing the checkpoint after step S: the temporary file
//                       holds the header and the first tensor, not yet renamed into place (rank 0
//                       alone writes checkpoints, so only rank=0 reaches it)
//           eval        inside the evaluation after step S, after this rank's first test batch,
//                       before the evaluation sums are reduced across ranks
//   step    the 1-based training step (the "step S/N" of the progress lines), S >= 1
//   signal  KILL or STOP: the process sends SIGKILL / SIGSTOP to itself, once
//
// Keys come in any order, each once, all four required. A malformed value is an fc::Error of one
// line naming FC_FAULT_INJECT. The process prints one line ("fcrun: fault injection: rank R sends
// itself SIGKILL during checkpoint at step S") to stderr just before the signal.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace fc::runtime {

inline constexpr const char* kFaultInjectEnv = "FC_FAULT_INJECT";

enum class FaultPhase { forward, allreduce, checkpoint, eval };

struct FaultSpec {
  int rank = 0;
  FaultPhase phase = FaultPhase::forward;
  int64_t step = 0;
  int signal = 0;  // SIGKILL or SIGSTOP
  bool operator==(const FaultSpec&) const = default;
};

// Parses a value of FC_FAULT_INJECT (format above); throws fc::Error naming the variable.
FaultSpec parse_fault_spec(std::string_view text);

// Reads FC_FAULT_INJECT once per training run (the trainer calls it before its first step) and
// arms the hooks when it names `rank`; unset or empty disarms them.
void arm_fault_injection(int rank);
// The 1-based training step now running on this rank (the trainer sets it as each step starts).
void set_fault_step(int64_t step);

namespace detail {
extern std::atomic<bool> g_fault_armed;
void fault_point_slow(FaultPhase phase);
}  // namespace detail

// A hook point: signals this process when the armed spec names this phase at the current step.
inline void fault_point(FaultPhase phase) {
  if (detail::g_fault_armed.load(std::memory_order_relaxed)) detail::fault_point_slow(phase);
}

}  // namespace fc::runtime
