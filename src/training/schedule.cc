#include "bertkit/training/schedule.h"

#include <algorithm>
#include <cmath>

#include "bertkit/core/error.h"

namespace bertkit {

ScheduleType parse_schedule_type(const std::string& s, const std::string& where) {
  if (s == "linear") return ScheduleType::Linear;
  if (s == "cosine") return ScheduleType::Cosine;
  if (s == "polynomial") return ScheduleType::Polynomial;
  if (s == "constant" || s == "constant_with_warmup") return ScheduleType::Constant;
  throw InputError(where + ": expected one of linear, cosine, polynomial, constant, got \"" + s + "\"");
}

std::string schedule_type_name(ScheduleType t) {
  switch (t) {
    case ScheduleType::Linear: return "linear";
    case ScheduleType::Cosine: return "cosine";
    case ScheduleType::Polynomial: return "polynomial";
    case ScheduleType::Constant: return "constant";
  }
  return "?";
}

double LRSchedule::factor(int64_t k) const {
  const double W = static_cast<double>(warmup_steps), N = static_cast<double>(total_steps), s = static_cast<double>(k);
  if (k < warmup_steps) return s / std::max(1.0, W);
  switch (type) {
    case ScheduleType::Linear:
      return std::max(0.0, (N - s) / std::max(1.0, N - W));
    case ScheduleType::Cosine: {
      double p = (s - W) / std::max(1.0, N - W);
      return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * num_cycles * 2.0 * p)));
    }
    case ScheduleType::Polynomial: {
      if (k > total_steps) return lr_end / base_lr;
      double range = base_lr - lr_end;
      double remaining = 1.0 - (s - W) / std::max(1.0, N - W);
      return (range * std::pow(remaining, power) + lr_end) / base_lr;
    }
    case ScheduleType::Constant:
      return 1.0;
  }
  return 1.0;
}

int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps) {
  if (warmup_steps > 0) return warmup_steps;
  return static_cast<int64_t>(std::ceil(warmup_ratio * static_cast<double>(total_steps)));
}

}  // namespace bertkit
