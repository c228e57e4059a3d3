// The CUDA driver as fcrun finds it at run time: libcuda.so.1 opened with dlopen, so that one fcrun
// binary runs on machines with and without NVIDIA's driver (and a CPU-only build needs no toolkit).
// [runtime] device = "cuda" starts here: a machine that cannot run the plan ends the job with one
// line saying why.
#pragma once

#include <string>

namespace fc::runtime::cuda {

// The oldest GPU architecture our PTX targets (codegen/ptx.h: sm_75, the oldest CUDA 13 accepts).
inline constexpr int kMinComputeCapability = 75;

struct CudaDevice {
  int ordinal = 0;
  std::string name;
  int compute_capability = 0;  // major * 10 + minor
  int driver_version = 0;      // CUDA's encoding: 1000 * major + 10 * minor
};

// Device `ordinal` when this machine can run our plans on it; otherwise throws fc::Error with one
// line saying which of these it is: no NVIDIA driver (libcuda.so.1 not found; FC_LIBCUDA names
// another file to open instead), the driver failing to start (cuInit's error), no device, or a
// compute capability below kMinComputeCapability.
CudaDevice open_cuda_device(int ordinal = 0);

}  // namespace fc::runtime::cuda
