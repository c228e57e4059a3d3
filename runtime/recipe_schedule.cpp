// What a recipe's numbers mean over a run: its step count, micro-batches per step and the learning
// rate at each step (see runtime/recipe.h).
#include <algorithm>
#include <cmath>

#include "ir/checked_size.h"
#include "runtime/recipe.h"
#include "support/error.h"

namespace fc::runtime {

int64_t total_steps(const Recipe& r, int64_t steps_per_epoch) {
  return r.steps ? *r.steps : ir::checked_mul(r.epochs, steps_per_epoch, r.path + ": [train] epochs");
}

int64_t micro_batches(const Recipe& r, int ranks) {
  if (!r.micro_batch_size) return 1;
  const int64_t m = *r.micro_batch_size;
  FC_CHECK(ranks > 0 && r.batch_size % (int64_t{ranks} * m) == 0, r.path, ": [train] micro_batch_size ", m,
           ": batch_size ", r.batch_size, " must be a multiple of ranks (", ranks, ") x micro_batch_size (",
           int64_t{ranks} * m, ")");
  return r.batch_size / ranks / m;
}

double learning_rate(const Recipe& r, int64_t step, int64_t total_steps) {
  FC_CHECK(step >= 0, "learning_rate: negative step ", step);
  double base = r.lr;
  if (r.scale_lr_with_batch) base *= static_cast<double>(r.batch_size) / static_cast<double>(*r.scale_lr_with_batch);
  double lr = base;
  if (r.schedule == "constant") {
    lr = base;
  } else if (r.schedule == "step") {
    FC_CHECK(r.step_size > 0, r.path, ": [schedule] step_size: must be > 0 for name = \"step\"");
    lr = base * std::pow(r.gamma, static_cast<double>(step / r.step_size));
  } else if (r.schedule == "multistep") {
    int64_t passed = std::count_if(r.milestones.begin(), r.milestones.end(), [&](int64_t m) { return m <= step; });
    lr = base * std::pow(r.gamma, static_cast<double>(passed));
  } else if (r.schedule == "poly" || r.schedule == "cosine") {
    FC_CHECK(total_steps > 0, "learning_rate: schedule '", r.schedule, "' needs the total number of steps");
    double progress = static_cast<double>(std::min(step, total_steps)) / static_cast<double>(total_steps);
    if (r.schedule == "poly")
      lr = base * std::pow(1.0 - progress, r.power);
    else
      lr = r.min_lr + (base - r.min_lr) * (1.0 + std::cos(M_PI * progress)) / 2.0;
  } else {
    fail(r.path, ": [schedule] name: unknown schedule '", r.schedule, "'");
  }
  if (step < r.warmup_steps) lr *= static_cast<double>(step + 1) / static_cast<double>(r.warmup_steps);
  return lr;
}

}  // namespace fc::runtime
