// Layout of the training step's hyper-parameter input (`fc.hyper`, f32[kHyperSize]). The runtime
// fills it every step (learning-rate schedule, step counter); optimizer ops read it. Because these
// are runtime inputs, a schedule never recompiles the plan.
#pragma once

#include <cmath>

namespace fc::ir {

enum HyperIndex : int {
  kHyperLr = 0,
  kHyperMomentum = 1,
  kHyperDampening = 2,
  kHyperWeightDecay = 3,
  kHyperBeta1 = 4,
  kHyperBeta2 = 5,
  kHyperEps = 6,
  kHyperStep = 7,  // number of updates already applied (0 on the first step)
  // Derived by derive_hyperparams() from the above: AdamW's per-step scalars, which torch.optim
  // computes in double precision (the fused kernels compute in float only).
  kHyperAdamDecay = 8,                // 1 - lr * weight_decay
  kHyperAdamStepSize = 9,             // lr / (1 - beta1^t), t = step + 1
  kHyperAdamBiasCorrection2Sqrt = 10, // sqrt(1 - beta2^t)
  kHyperAdamOneMinusBeta1 = 11,
  kHyperAdamOneMinusBeta2 = 12,
  kHyperSize = 13,
};

// Fills the derived entries of a hyper-parameter vector h[kHyperSize] from its first eight, in
// double and rounded to float once, as torch.optim.AdamW does.
inline void derive_hyperparams(float* h) {
  const double lr = h[kHyperLr], wd = h[kHyperWeightDecay], b1 = h[kHyperBeta1], b2 = h[kHyperBeta2];
  const double t = double(h[kHyperStep]) + 1.0;
  h[kHyperAdamDecay] = static_cast<float>(1.0 - lr * wd);
  h[kHyperAdamStepSize] = static_cast<float>(lr / (1.0 - std::pow(b1, t)));
  h[kHyperAdamBiasCorrection2Sqrt] = static_cast<float>(std::sqrt(1.0 - std::pow(b2, t)));
  h[kHyperAdamOneMinusBeta1] = static_cast<float>(1.0 - b1);
  h[kHyperAdamOneMinusBeta2] = static_cast<float>(1.0 - b2);
}

inline constexpr const char* kHyperInputName = "fc.hyper";
inline constexpr const char* kRngInputName = "fc.rng";  // i64[2]: seed, step (counter-based dropout RNG)
// A training step's output when it clips gradients: their global L2 norm before clipping (f32[]).
inline constexpr const char* kGradNormName = "fc.grad_norm";

}  // namespace fc::ir
