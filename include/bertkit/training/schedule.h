// Learning-rate schedules with warmup, as transformers' get_scheduler builds
// them (LambdaLR semantics: the rate of optimizer step k, k = 0, 1, ..., is
// base_lr * factor(k); with warmup the first step runs at 0).
//   linear:     k/W during warmup, then (N - k) / (N - W), floored at 0
//   cosine:     k/W, then 0.5 (1 + cos(pi * 2 * num_cycles * p)), p = (k - W)/(N - W), floored at 0
//   polynomial: k/W, then ((lr - lr_end) (1 - p)^power + lr_end) / lr; lr_end / lr once k > N
//   constant:   k/W, then 1
// N = total optimizer steps, W = warmup steps (warmup_steps, or ceil(warmup_ratio * N)).
#pragma once

#include <cstdint>
#include <string>

namespace bertkit {

enum class ScheduleType { Linear, Cosine, Polynomial, Constant };
ScheduleType parse_schedule_type(const std::string& s, const std::string& where = "lr_scheduler");
std::string schedule_type_name(ScheduleType t);

struct LRSchedule {
  ScheduleType type = ScheduleType::Linear;
  double base_lr = 5e-5;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double num_cycles = 0.5;  // cosine
  double power = 1.0;       // polynomial
  double lr_end = 1e-7;     // polynomial
  // Multiplier of base_lr for optimizer step k (0-based).
  double factor(int64_t k) const;
  double lr(int64_t k) const { return base_lr * factor(k); }
};

// HF's get_warmup_steps: warmup_steps when > 0, else ceil(warmup_ratio * total).
int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps);

}  // namespace bertkit
