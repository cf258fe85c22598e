// LR schedules against hand-computed values; the fp16 loss scaler on injected inf.
#include <cmath>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/training/loss_scaler.h"
#include "bertkit/training/schedule.h"
#include "test_util.h"

using namespace bertkit;

TEST(Schedule, LinearWithWarmup) {
  LRSchedule s;
  s.type = ScheduleType::Linear;
  s.base_lr = 1e-3;
  s.warmup_steps = 4;
  s.total_steps = 12;
  // warmup: k/4; decay: (12-k)/8
  EXPECT_DOUBLE_EQ(s.lr(0), 0.0);
  EXPECT_DOUBLE_EQ(s.lr(1), 0.25e-3);
  EXPECT_DOUBLE_EQ(s.lr(3), 0.75e-3);
  EXPECT_DOUBLE_EQ(s.lr(4), 1e-3);
  EXPECT_DOUBLE_EQ(s.lr(8), 0.5e-3);
  EXPECT_DOUBLE_EQ(s.lr(11), 0.125e-3);
  EXPECT_DOUBLE_EQ(s.lr(12), 0.0);
  EXPECT_DOUBLE_EQ(s.lr(20), 0.0);  // floored
}

TEST(Schedule, CosineWithWarmup) {
  LRSchedule s;
  s.type = ScheduleType::Cosine;
  s.base_lr = 2.0;
  s.warmup_steps = 2;
  s.total_steps = 10;
  EXPECT_DOUBLE_EQ(s.lr(1), 1.0);
  EXPECT_DOUBLE_EQ(s.lr(2), 2.0);               // cos(0)
  EXPECT_NEAR(s.lr(6), 1.0, 1e-12);             // halfway: 0.5 (1 + cos(pi/2))
  EXPECT_NEAR(s.lr(4), 2.0 * 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-12);  // 1.7071...
  EXPECT_NEAR(s.lr(4), 1.7071067811865475, 1e-12);
  EXPECT_NEAR(s.lr(10), 0.0, 1e-12);
}

TEST(Schedule, PolynomialWithWarmup) {
  LRSchedule s;
  s.type = ScheduleType::Polynomial;
  s.base_lr = 1.0;
  s.lr_end = 0.1;
  s.power = 2.0;
  s.warmup_steps = 0;
  s.total_steps = 10;
  EXPECT_DOUBLE_EQ(s.lr(0), 1.0);
  // k=5: (1 - 0.1) * (1 - 0.5)^2 + 0.1 = 0.325
  EXPECT_NEAR(s.lr(5), 0.325, 1e-12);
  EXPECT_NEAR(s.lr(10), 0.1, 1e-12);
  EXPECT_NEAR(s.lr(11), 0.1, 1e-12);  // lr_end after the end
}

TEST(Schedule, ConstantAndWarmupRatio) {
  LRSchedule s;
  s.type = ScheduleType::Constant;
  s.base_lr = 3.0;
  s.warmup_steps = 3;
  s.total_steps = 100;
  EXPECT_DOUBLE_EQ(s.lr(0), 0.0);
  EXPECT_DOUBLE_EQ(s.lr(2), 2.0);
  EXPECT_DOUBLE_EQ(s.lr(50), 3.0);
  // HF: ceil(ratio * total) unless warmup_steps is set.
  EXPECT_EQ(resolve_warmup_steps(0, 0.06, 1000), 60);
  EXPECT_EQ(resolve_warmup_steps(0, 0.1, 15), 2);
  EXPECT_EQ(resolve_warmup_steps(7, 0.5, 1000), 7);
  EXPECT_EQ(parse_schedule_type("cosine"), ScheduleType::Cosine);
  EXPECT_THROW(parse_schedule_type("exp"), InputError);
}

TEST(LossScaler, InjectedInfSkipsAndBacksOffThenGrows) {
  LossScalerOptions o;
  o.init_scale = 1024;
  o.growth_interval = 3;
  DynamicLossScaler s(o);
  auto p = torch::zeros({4}, torch::requires_grad());
  // A clean step: gradients are divided by the scale.
  p.mutable_grad() = torch::full({4}, 2048.0);
  EXPECT_TRUE(s.unscale_and_check({p}));
  EXPECT_TRUE(torch::allclose(p.grad(), torch::full({4}, 2.0)));
  s.update(false);
  EXPECT_EQ(s.scale(), 1024);
  // An injected inf: found, step skipped, scale halved, counted.
  p.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::infinity(), 0.f, 0.f});
  EXPECT_FALSE(s.unscale_and_check({p}));
  s.update(true);
  EXPECT_EQ(s.scale(), 512);
  EXPECT_EQ(s.skipped_steps(), 1);
  // NaN too.
  p.mutable_grad() = torch::tensor({std::nanf(""), 0.f, 0.f, 0.f});
  EXPECT_FALSE(s.unscale_and_check({p}));
  s.update(true);
  EXPECT_EQ(s.scale(), 256);
  EXPECT_EQ(s.skipped_steps(), 2);
  // growth_interval clean steps double the scale.
  for (int i = 0; i < 3; ++i) {
    p.mutable_grad() = torch::ones({4});
    EXPECT_TRUE(s.unscale_and_check({p}));
    s.update(false);
  }
  EXPECT_EQ(s.scale(), 512);
  EXPECT_EQ(s.growth_tracker(), 0);
}
