// CPU kernel for BatchNormalization through oneDNN batch normalization.
//   x, y: [N, C, D1..Dk] plain, viewed as [N, C, D1*..*Dk, 1]; scale, B, mean, var: [C].
//   training_mode = 0: normalise with the given mean/var (use_global_stats).
//   training_mode = 1: oneDNN computes the batch mean and population variance, which normalise x and
//     update running_mean/running_var (outputs 1 and 2) with `momentum` as ONNX specifies.
#include "ir/shape_util.h"
#include "runtime/cpu/dnnl_context.h"
#include "runtime/cpu/kernel_registry.h"

namespace fc::runtime::cpu {
namespace {

class BatchNormKernel : public Kernel {
 public:
  explicit BatchNormKernel(const KernelSpec& s) : node_(s.node) {
    const std::vector<int64_t> x = s.inputs[0].sizes();
    channels_ = x[1];
    training_ = node_.attr_int("training_mode") == 1;
    momentum_ = node_.attr_float("momentum");
    dnnl_checked(node_, [&] {
      data_desc_ = plain_desc({x[0], x[1], ir::product(x, 2), 1});
      stat_desc_ = plain_desc({channels_});
      auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
      if (!training_) flags = flags | dnnl::normalization_flags::use_global_stats;
      const auto prop = training_ ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
      dnnl::batch_normalization_forward::desc d(prop, data_desc_, node_.attr_float("epsilon"), flags);
      prim_ = dnnl::batch_normalization_forward(dnnl::batch_normalization_forward::primitive_desc(d, dnnl_engine()));
      if (training_) {
        batch_mean_ = dnnl::memory(stat_desc_, dnnl_engine());
        batch_var_ = dnnl::memory(stat_desc_, dnnl_engine());
      }
    });
  }

  void run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    dnnl_checked(node_, [&] {
      std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(*in[0], data_desc_)},
                                                 {DNNL_ARG_DST, wrap(out[0], data_desc_)},
                                                 {DNNL_ARG_SCALE, wrap(*in[1], stat_desc_)},
                                                 {DNNL_ARG_SHIFT, wrap(*in[2], stat_desc_)}};
      args[DNNL_ARG_MEAN] = training_ ? batch_mean_ : wrap(*in[3], stat_desc_);
      args[DNNL_ARG_VARIANCE] = training_ ? batch_var_ : wrap(*in[4], stat_desc_);
      execute(prim_, args);
    });
    if (training_) update_running_stats(in, out);
  }

 private:
  // running = given * momentum + batch * (1 - momentum); mean, var: [C]
  void update_running_stats(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
    const float* batch[2] = {static_cast<const float*>(batch_mean_.get_data_handle()),
                             static_cast<const float*>(batch_var_.get_data_handle())};
    for (size_t o = 1; o < out.size(); ++o) {
      const float* given = in[2 + o]->data<float>();
      float* running = out[o].data<float>();
      for (int64_t c = 0; c < channels_; ++c)
        running[c] = given[c] * momentum_ + batch[o - 1][c] * (1.0f - momentum_);
    }
  }

  const ir::Node& node_;
  int64_t channels_ = 0;
  bool training_ = false;
  float momentum_ = 0.9f;
  dnnl::memory::desc data_desc_, stat_desc_;
  dnnl::memory batch_mean_, batch_var_;  // training: statistics of the current batch
  dnnl::batch_normalization_forward prim_;
};

}  // namespace

FC_REGISTER_CPU_KERNEL("BatchNormalization", [](const KernelSpec& s) { return std::make_unique<BatchNormKernel>(s); });

}  // namespace fc::runtime::cpu
