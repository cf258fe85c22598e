#include "bertkit/training/loss_scaler.h"

namespace bertkit {

DynamicLossScaler::DynamicLossScaler(LossScalerOptions options) : options_(options), scale_(options.init_scale) {}

bool DynamicLossScaler::unscale_and_check(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return true;
  // One flag on the device, read once: the step's only sync (the skip decision).
  torch::Tensor bad;
  if (grads[0].is_cuda()) {
    // GradScaler's own kernel: unscale and check every gradient in one pass.
    bad = torch::zeros({1}, grads[0].options().dtype(torch::kFloat));
    at::_amp_foreach_non_finite_check_and_unscale_(grads, bad, torch::full({1}, 1.0 / scale_, bad.options()));
    return bad.item<float>() == 0.0f;
  }
  const double inv = 1.0 / scale_;
  for (auto& g : grads) {
    g.mul_(inv);
    auto nonfinite = g.isfinite().logical_not().any();
    bad = bad.defined() ? bad.logical_or(nonfinite) : nonfinite;
  }
  return !bad.item<bool>();
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
