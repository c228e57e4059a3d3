// CPU kernel for fc.AllReduce: copies the bucket's gradients into one contiguous buffer, sums it
// across the data-parallel ranks with the node's algorithm, and copies the sums out. With several
// ranks it is asynchronous: the work runs on the data-parallel communication thread while backward
// goes on. With one rank the outputs are the inputs (views, no copy).
#include <cstring>
#include <vector>

#include "runtime/cpu/kernel_registry.h"
#include "runtime/data_parallel.h"
#include "runtime/trace.h"

namespace fc::runtime::cpu {
namespace {

class AllReduceKernel : public Kernel {
 public:
  explicit AllReduceKernel(const KernelSpec& s) : algorithm_(s.node.attr_string("algorithm")), name_(s.node.name) {
    size_t total = 0;
    for (const auto& t : s.inputs) total += static_cast<size_t>(t.numel());
    bucket_.resize(total);
  }
  bool allocates_outputs() const override { return true; }
  bool asynchronous() const override {
    const DataParallel* dp = data_parallel();
    return dp && dp->size() > 1;
  }
  std::future<void> start(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return data_parallel()->submit([this, &in, &out] {
      TraceScope trace("allreduce", name_, Tracer::kCommThread);
      run(in, out);
    });
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    DataParallel* dp = data_parallel();
    if (!dp || dp->size() == 1) {
      for (size_t i = 0; i < in.size(); ++i) out[i] = *in[i];
      return;
    }
    size_t offset = 0;
    for (const Tensor* t : in) {
      std::memcpy(bucket_.data() + offset, t->raw(), t->nbytes());
      offset += t->numel();
    }
    dp->reducer(algorithm_).run(bucket_.data(), bucket_.size());
    offset = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      out[i] = Tensor(in[i]->dtype(), in[i]->dims());
      std::memcpy(out[i].raw(), bucket_.data() + offset, out[i].nbytes());
      offset += out[i].numel();
    }
  }

 private:
  std::string algorithm_;
  std::string name_;
  std::vector<float> bucket_;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("fc::AllReduce", [](const KernelSpec& s) { return std::make_unique<AllReduceKernel>(s); });

}  // namespace fc::runtime::cpu
