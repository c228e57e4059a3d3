// One oneDNN CPU engine and stream per process, shared by every oneDNN-backed kernel, plus helpers
// to wrap our tensors as oneDNN memory without copies.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include "ir/tensor.h"

namespace fc::runtime::cpu {

dnnl::engine& dnnl_engine();
dnnl::stream& dnnl_stream();

// Plain (row-major) memory descriptor for the given dims, f32.
dnnl::memory::desc plain_desc(const std::vector<int64_t>& dims);
// Wraps a tensor's storage (no copy). The tensor must outlive the returned memory's use.
dnnl::memory wrap(const ir::Tensor& t, const dnnl::memory::desc& desc);

}  // namespace fc::runtime::cpu
