// Layout of the training step's hyper-parameter input (`fc.hyper`, f32[kHyperSize]). The runtime
// fills it every step (learning-rate schedule, step counter); optimizer ops read it. Because these
// are runtime inputs, a schedule never recompiles the plan.
#pragma once

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
  kHyperSize = 8,
};

inline constexpr const char* kHyperInputName = "fc.hyper";
inline constexpr const char* kRngInputName = "fc.rng";  // i64[2]: seed, step (counter-based dropout RNG)

}  // namespace fc::ir
