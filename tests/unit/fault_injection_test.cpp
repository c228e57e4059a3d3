// FC_FAULT_INJECT (runtime/fault_injection.h, test-only fault injection of issue 22): good values
// parse in any key order, malformed ones are one-line errors naming the variable, and an armed
// hook signals the process at its phase and step only, on its rank only.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <string>

#include "error_of.h"
#include "runtime/fault_injection.h"

namespace fc::runtime {
namespace {

using fc::test::error_of;

TEST(FaultInjection, ParsesGoodValues) {
  EXPECT_EQ(parse_fault_spec("rank=2,phase=allreduce,step=37,signal=KILL"),
            (FaultSpec{2, FaultPhase::allreduce, 37, SIGKILL}));
  EXPECT_EQ(parse_fault_spec("signal=STOP,step=1,phase=eval,rank=0"), (FaultSpec{0, FaultPhase::eval, 1, SIGSTOP}));
  EXPECT_EQ(parse_fault_spec("rank=0,phase=forward,step=120,signal=STOP"),
            (FaultSpec{0, FaultPhase::forward, 120, SIGSTOP}));
  EXPECT_EQ(parse_fault_spec("rank=0,phase=checkpoint,step=60,signal=KILL").phase, FaultPhase::checkpoint);
}

TEST(FaultInjection, MalformedValuesAreOneLineErrorsNamingTheVariable) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "key \"rank\" is missing"},
      {"rank=1,phase=eval,step=3", "key \"signal\" is missing"},
      {"rank=1,phase=eval,step=3,signal=KILL,", "\"\" is not key=value"},
      {"rank=1,phase=eval,step=3,signal=TERM", "unknown signal \"TERM\""},
      {"rank=1,phase=backward,step=3,signal=KILL", "unknown phase \"backward\""},
      {"rank=1,phase=eval,step=0,signal=KILL", "step \"0\" is not an integer in [1, "},
      {"rank=-1,phase=eval,step=3,signal=KILL", "rank \"-1\" is not an integer in [0, "},
      {"rank=1x,phase=eval,step=3,signal=KILL", "rank \"1x\" is not an integer"},
      {"rank=99999999999,phase=eval,step=3,signal=KILL", "rank \"99999999999\" is not an integer"},
      {"rank=1,phase=eval,step=3,signal=KILL,rank=2", "key \"rank\" given twice"},
      {"rank=1,phase=eval,step=3,sig=KILL", "unknown key \"sig\""},
      {"rank 1", "\"rank 1\" is not key=value"},
  };
  for (const auto& [value, why] : cases) {
    const std::string e = error_of([&] { parse_fault_spec(value); });
    EXPECT_EQ(e.rfind(std::string("FC_FAULT_INJECT=\"") + value + "\": ", 0), 0u) << e;
    EXPECT_NE(e.find(why), std::string::npos) << e;
    EXPECT_NE(e.find("expected \"rank=R,phase="), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(FaultInjection, UnsetOrOtherRankNeverFires) {
  ::unsetenv(kFaultInjectEnv);
  arm_fault_injection(0);
  set_fault_step(3);
  fault_point(FaultPhase::eval);
  ::setenv(kFaultInjectEnv, "rank=1,phase=eval,step=3,signal=KILL", 1);
  arm_fault_injection(0);
  fault_point(FaultPhase::eval);
  ::setenv(kFaultInjectEnv, "rank=1,phase=eval,step=3,signal=KILL,", 1);
  EXPECT_NE(error_of([] { arm_fault_injection(0); }).find("FC_FAULT_INJECT="), std::string::npos);
  ::unsetenv(kFaultInjectEnv);
  arm_fault_injection(0);
}

TEST(FaultInjectionDeathTest, FiresAtItsPhaseAndStepOnly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::setenv(kFaultInjectEnv, "rank=3,phase=checkpoint,step=4,signal=KILL", 1);
        arm_fault_injection(3);
        set_fault_step(3);
        fault_point(FaultPhase::checkpoint);  // another step
        set_fault_step(4);
        fault_point(FaultPhase::eval);  // another phase
        fault_point(FaultPhase::checkpoint);
        ::_exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "fault injection: rank 3 sends itself SIGKILL during checkpoint at step 4");
}

}  // namespace
}  // namespace fc::runtime
