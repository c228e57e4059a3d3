// Registry-driven: every op the IR knows has a CPU kernel, and every CPU kernel belongs to an op the
// IR knows, so that a new op record cannot land without its kernel (nor a kernel outlive its op).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ir/op_registry.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc {
namespace {

std::string kernel_key(const ir::OpSchema& s) { return s.domain.empty() ? s.name : s.domain + "::" + s.name; }

TEST(KernelCoverage, EveryOpHasACpuKernelAndEveryKernelAnOp) {
  std::set<std::string> ops;
  for (const ir::OpSchema* s : ir::OpRegistry::global().all()) {
    if (s->domain == "test") continue;  // ops that tests register for themselves (e.g. the verifier's)
    ops.insert(kernel_key(*s));
    EXPECT_NE(runtime::cpu::KernelRegistry::global().find(kernel_key(*s)), nullptr)
        << kernel_key(*s) << " has an op record (ir/ops/) but no CPU kernel (runtime/cpu/kernels/)";
  }
  EXPECT_GT(ops.size(), 80u);
  for (const std::string& k : runtime::cpu::KernelRegistry::global().ops())
    EXPECT_TRUE(ops.count(k)) << "CPU kernel " << k << " has no op record";
}

}  // namespace
}  // namespace fc
