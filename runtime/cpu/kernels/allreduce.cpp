// CPU kernel for fc.AllReduce: sums the bucket's gradients across the data-parallel ranks with the
// node's algorithm. The executor computes a bucket's gradients into one contiguous region of the
// bucket arena (executor.h), and then the sum happens there, in place, and the outputs are views of
// the inputs; otherwise (a gradient with other readers) they are copied into a private buffer and
// the sums copied out. With several ranks it is asynchronous: the work runs on the data-parallel
// communication thread while backward goes on. With one rank the outputs are the inputs.
#include <cstring>
#include <vector>

#include "runtime/cpu/kernel_registry.h"
#include "runtime/data_parallel.h"
#include "runtime/fault_injection.h"
#include "runtime/trace.h"

namespace fc::runtime::cpu {
namespace {

class AllReduceKernel : public Kernel {
 public:
  explicit AllReduceKernel(const KernelSpec& s) : algorithm_(s.node.attr_string("algorithm")), name_(s.node.name) {
    for (const auto& t : s.inputs) count_ += static_cast<size_t>(t.numel());
  }
  bool allocates_outputs() const override { return true; }
  bool asynchronous() const override {
    const DataParallel* dp = data_parallel();
    return dp && dp->size() > 1;
  }
  std::future<void> start(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return data_parallel()->submit([this, &in, &out] {
      TraceScope trace("allreduce", name_, Tracer::kCommThread);
      // Test-only fault injection (issue 22): the other ranks are inside this collective by now
      // or will be, waiting on this one.
      fault_point(FaultPhase::allreduce);
      run(in, out);
    });
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    DataParallel* dp = data_parallel();
    if (!dp || dp->size() == 1) {
      for (size_t i = 0; i < in.size(); ++i) out[i] = *in[i];
      return;
    }
    if (float* first = contiguous(in)) {
      dp->reducer(algorithm_).run(first, count_);
      for (size_t i = 0; i < in.size(); ++i) out[i] = *in[i];
      return;
    }
    bucket_.resize(count_);
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
  // The first input's data when the inputs lie back to back in one allocation, in input order.
  static float* contiguous(const std::vector<const Tensor*>& in) {
    if (in.empty()) return nullptr;
    const Tensor& first = *in[0];
    size_t offset = 0;
    for (const Tensor* t : in) {
      if (!t->shares_storage(first) ||
          static_cast<const std::byte*>(t->raw()) != static_cast<const std::byte*>(first.raw()) + offset)
        return nullptr;
      offset += t->nbytes();
    }
    // The executor hands the bucket to this node alone to sum in place (its one reader).
    return const_cast<float*>(first.data<float>());
  }

  std::string algorithm_;
  std::string name_;
  size_t count_ = 0;           // floats in the bucket
  std::vector<float> bucket_;  // the copying path's buffer
};

}  // namespace

FC_REGISTER_CPU_KERNEL("fc::AllReduce", [](const KernelSpec& s) { return std::make_unique<AllReduceKernel>(s); });

}  // namespace fc::runtime::cpu
