#include "bertkit/training/loss_scaler.h"

namespace bertkit {

DynamicLossScaler::DynamicLossScaler(LossScalerOptions options) : options_(options), scale_(options.init_scale) {}

bool DynamicLossScaler::unscale_and_check(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  const double inv = 1.0 / scale_;
  // One flag on the device, read once: a single sync per step.
  torch::Tensor bad;
  for (const auto& p : params) {
    auto g = p.grad();
    if (!g.defined()) continue;
    g.mul_(inv);
    auto nonfinite = g.isfinite().logical_not().any();
    bad = bad.defined() ? bad.logical_or(nonfinite) : nonfinite;
  }
  return !(bad.defined() && bad.item<bool>());
}

void DynamicLossScaler::update(bool found_inf) {
  if (found_inf) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
    ++skipped_;
    return;
  }
  if (++growth_tracker_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    growth_tracker_ = 0;
  }
}

void DynamicLossScaler::set_state(double scale, int64_t growth_tracker, int64_t skipped) {
  scale_ = scale;
  growth_tracker_ = growth_tracker;
  skipped_ = skipped;
}

}  // namespace bertkit
