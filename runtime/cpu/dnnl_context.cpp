#include "runtime/cpu/dnnl_context.h"

namespace fc::runtime::cpu {

dnnl::engine& dnnl_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& dnnl_stream() {
  static dnnl::stream stream(dnnl_engine());
  return stream;
}

dnnl::memory::desc plain_desc(const std::vector<int64_t>& dims) {
  dnnl::memory::dims d(dims.begin(), dims.end());
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return dnnl::memory::desc(d, dnnl::memory::data_type::f32, dnnl::memory::dims(strides.begin(), strides.end()));
}

dnnl::memory wrap(const ir::Tensor& t, const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, dnnl_engine(), const_cast<void*>(t.raw()));
}

}  // namespace fc::runtime::cpu
