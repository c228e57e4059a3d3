#include "runtime/fault_injection.h"

#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "support/error.h"

namespace fc::runtime {

namespace detail {
std::atomic<bool> g_fault_armed{false};
}  // namespace detail

namespace {

FaultSpec g_spec;
std::atomic<int64_t> g_step{0};
std::atomic<bool> g_fired{false};

constexpr std::string_view kFormat = "expected \"rank=R,phase=forward|allreduce|checkpoint|eval,step=S,signal=KILL|STOP\"";

[[noreturn]] void bad(std::string_view text, const std::string& why) {
  fail(kFaultInjectEnv, "=\"", text, "\": ", why, "; ", kFormat);
}

const char* phase_name(FaultPhase p) {
  switch (p) {
    case FaultPhase::forward: return "forward";
    case FaultPhase::allreduce: return "allreduce";
    case FaultPhase::checkpoint: return "checkpoint";
    case FaultPhase::eval: return "eval";
  }
  return "?";
}

int64_t parse_int(std::string_view text, std::string_view key, std::string_view value, int64_t min, int64_t max) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || v < min || v > max)
    bad(text, std::string(key) + " \"" + std::string(value) + "\" is not an integer in [" + std::to_string(min) + ", " +
                  std::to_string(max) + "]");
  return v;
}

}  // namespace

FaultSpec parse_fault_spec(std::string_view text) {
  FaultSpec s;
  bool seen[4] = {};  // rank, phase, step, signal
  const std::string_view keys[4] = {"rank", "phase", "step", "signal"};
  for (std::string_view rest = text; !text.empty();) {
    const size_t comma = rest.find(',');
    const std::string_view field = rest.substr(0, comma);
    const size_t eq = field.find('=');
    if (eq == std::string_view::npos) bad(text, "\"" + std::string(field) + "\" is not key=value");
    const std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    int k = 0;
    while (k < 4 && keys[k] != key) ++k;
    if (k == 4) bad(text, "unknown key \"" + std::string(key) + "\"");
    if (seen[k]) bad(text, "key \"" + std::string(key) + "\" given twice");
    seen[k] = true;
    if (k == 0) {
      s.rank = static_cast<int>(parse_int(text, key, value, 0, std::numeric_limits<int>::max()));
    } else if (k == 1) {
      if (value == "forward") s.phase = FaultPhase::forward;
      else if (value == "allreduce") s.phase = FaultPhase::allreduce;
      else if (value == "checkpoint") s.phase = FaultPhase::checkpoint;
      else if (value == "eval") s.phase = FaultPhase::eval;
      else bad(text, "unknown phase \"" + std::string(value) + "\"");
    } else if (k == 2) {
      s.step = parse_int(text, key, value, 1, std::numeric_limits<int64_t>::max());
    } else {
      if (value == "KILL") s.signal = SIGKILL;
      else if (value == "STOP") s.signal = SIGSTOP;
      else bad(text, "unknown signal \"" + std::string(value) + "\"");
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  for (int k = 0; k < 4; ++k)
    if (!seen[k]) bad(text, "key \"" + std::string(keys[k]) + "\" is missing");
  return s;
}

void arm_fault_injection(int rank) {
  const char* value = std::getenv(kFaultInjectEnv);
  detail::g_fault_armed.store(false);
  g_fired.store(false);
  g_step.store(0);
  if (!value || !*value) return;
  g_spec = parse_fault_spec(value);  // malformed: every rank reports it, whichever it names
  detail::g_fault_armed.store(g_spec.rank == rank);
}

void set_fault_step(int64_t step) { g_step.store(step, std::memory_order_relaxed); }

void detail::fault_point_slow(FaultPhase phase) {
  if (phase != g_spec.phase || g_step.load(std::memory_order_relaxed) != g_spec.step || g_fired.exchange(true)) return;
  std::fprintf(stderr, "fcrun: fault injection: rank %d sends itself %s during %s at step %lld\n", g_spec.rank,
               g_spec.signal == SIGKILL ? "SIGKILL" : "SIGSTOP", phase_name(phase), static_cast<long long>(g_spec.step));
  std::fflush(stderr);
  ::kill(::getpid(), g_spec.signal);
}

}  // namespace fc::runtime
