#include "runtime/cuda/cuda_driver.h"

#include <dlfcn.h>

#include <cstdlib>

#include "support/error.h"

namespace fc::runtime::cuda {
namespace {

// The few driver API entry points used here, declared as cuda.h does (their ABI has been stable
// since CUDA 4), so that building this file needs no toolkit.
using CUresult = int;
using CUdevice = int;
constexpr CUresult kSuccess = 0;
constexpr CUresult kNoDevice = 100;  // CUDA_ERROR_NO_DEVICE
constexpr int kAttrCcMajor = 75;     // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kAttrCcMinor = 76;     // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR

struct DriverApi {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int*);
  CUresult (*cuDeviceGetCount)(int*);
  CUresult (*cuDeviceGet)(CUdevice*, int);
  CUresult (*cuDeviceGetName)(char*, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice);
  CUresult (*cuGetErrorString)(CUresult, const char**);
};

template <typename Fn>
void bind(void* lib, const char* symbol, const std::string& path, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(lib, symbol));
  FC_CHECK(fn, "[runtime] device = \"cuda\": ", path, " lacks ", symbol, " (not an NVIDIA driver library?)");
}

// The driver, opened once per process (dlopen keeps it loaded; the handle is never closed).
const DriverApi& driver() {
  static const DriverApi api = [] {
    const char* override_path = std::getenv("FC_LIBCUDA");
    const std::string path = override_path ? override_path : "libcuda.so.1";
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    FC_CHECK(lib, "[runtime] device = \"cuda\": no NVIDIA driver on this machine (", dlerror(), ")");
    DriverApi a{};
    bind(lib, "cuInit", path, a.cuInit);
    bind(lib, "cuDriverGetVersion", path, a.cuDriverGetVersion);
    bind(lib, "cuDeviceGetCount", path, a.cuDeviceGetCount);
    bind(lib, "cuDeviceGet", path, a.cuDeviceGet);
    bind(lib, "cuDeviceGetName", path, a.cuDeviceGetName);
    bind(lib, "cuDeviceGetAttribute", path, a.cuDeviceGetAttribute);
    bind(lib, "cuGetErrorString", path, a.cuGetErrorString);
    return a;
  }();
  return api;
}

std::string error_text(const DriverApi& api, CUresult r) {
  const char* s = nullptr;
  if (api.cuGetErrorString(r, &s) == kSuccess && s) return std::string(s) + " (CUDA error " + std::to_string(r) + ")";
  // The driver could not say (the toolkit's stub library says nothing): the codes a machine without
  // a working GPU gives, from cuda.h.
  switch (r) {
    case 34: return "the driver library is the CUDA toolkit's stub, not a driver (CUDA_ERROR_STUB_LIBRARY)";
    case 35: return "the driver is older than this CUDA runtime (CUDA_ERROR_INSUFFICIENT_DRIVER)";
    case 999: return "unknown error (CUDA_ERROR_UNKNOWN; is the GPU visible to this container?)";
    default: return "CUDA error " + std::to_string(r);
  }
}

}  // namespace

CudaDevice open_cuda_device(int ordinal) {
  const DriverApi& api = driver();
  const CUresult init = api.cuInit(0);
  FC_CHECK(init != kNoDevice, "[runtime] device = \"cuda\": no CUDA device on this machine (the driver found none)");
  FC_CHECK(init == kSuccess, "[runtime] device = \"cuda\": the CUDA driver did not start: ", error_text(api, init));
  CudaDevice d;
  d.ordinal = ordinal;
  api.cuDriverGetVersion(&d.driver_version);
  int count = 0;
  const CUresult counted = api.cuDeviceGetCount(&count);
  FC_CHECK(counted == kSuccess, "[runtime] device = \"cuda\": cannot count CUDA devices: ", error_text(api, counted));
  FC_CHECK(count > 0, "[runtime] device = \"cuda\": no CUDA device on this machine");
  FC_CHECK(ordinal >= 0 && ordinal < count, "[runtime] device = \"cuda\": device ", ordinal, " asked for, this machine has ",
           count);
  CUdevice dev = 0;
  api.cuDeviceGet(&dev, ordinal);
  char name[256] = {};
  api.cuDeviceGetName(name, sizeof(name) - 1, dev);
  d.name = name;
  int major = 0, minor = 0;
  api.cuDeviceGetAttribute(&major, kAttrCcMajor, dev);
  api.cuDeviceGetAttribute(&minor, kAttrCcMinor, dev);
  d.compute_capability = major * 10 + minor;
  FC_CHECK(d.compute_capability >= kMinComputeCapability, "[runtime] device = \"cuda\": ", d.name,
           " has compute capability ", major, ".", minor, ", below ", kMinComputeCapability / 10, ".",
           kMinComputeCapability % 10, ", the oldest our PTX targets");
  return d;
}

}  // namespace fc::runtime::cuda
