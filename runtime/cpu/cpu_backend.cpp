#include "runtime/cpu/cpu_backend.h"

#include <omp.h>
#include <sched.h>

#include "support/error.h"
#include "runtime/cpu/dnnl_context.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

CpuBackend::CpuBackend(int threads) { set_threads(threads); }

void CpuBackend::set_threads(int threads) {
  threads_ = threads > 0 ? threads : available_cores();
  // oneDNN (built with the OpenMP runtime on Debian) and our own parallel loops share this setting.
  omp_set_num_threads(threads_);
}

namespace {
std::string kernel_key(const ir::Node& n) { return n.domain.empty() ? n.op : n.domain + "::" + n.op; }
}  // namespace

bool CpuBackend::supports(const ir::Node& node) const {
  return KernelRegistry::global().find(kernel_key(node)) != nullptr;
}

std::unique_ptr<Kernel> CpuBackend::make_kernel(const KernelSpec& spec) {
  const KernelFactory* f = KernelRegistry::global().find(kernel_key(spec.node));
  FC_CHECK(f, spec.node.describe(), ": no CPU kernel for op '", spec.node.op, "'");
  begin_kernel_build();  // its layout bridges take scratch slots from 0
  KernelSpec with_precision = spec;
  with_precision.product_operands = product_operands_;
  return (*f)(with_precision);
}

}  // namespace fc::runtime::cpu
