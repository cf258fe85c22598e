// Dynamic loss scaling for fp16 training (torch.cuda.amp.GradScaler's rules):
// the loss is multiplied by `scale` before backward; before the optimizer step
// the gradients are divided by it and checked; a step with an inf/NaN gradient
// is skipped and the scale multiplied by backoff_factor; after growth_interval
// clean steps in a row the scale is multiplied by growth_factor.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace bertkit {

struct LossScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class DynamicLossScaler {
 public:
  explicit DynamicLossScaler(LossScalerOptions options = {});
  double scale() const { return scale_; }
  torch::Tensor scale_loss(const torch::Tensor& loss) const { return loss * scale_; }
  // Divide every defined gradient by the scale; true when all are finite.
  bool unscale_and_check(const std::vector<torch::Tensor>& params);
  // After a step attempt: back off on overflow (the step was skipped), grow after a clean streak.
  void update(bool found_inf);
  int64_t skipped_steps() const { return skipped_; }
  int64_t growth_tracker() const { return growth_tracker_; }
  // For trainer_state.json.
  void set_state(double scale, int64_t growth_tracker, int64_t skipped);

 private:
  LossScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace bertkit
