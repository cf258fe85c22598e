#include "bertkit/nn/fused_adam_cpu.h"

#include <cmath>

#include <ATen/Parallel.h>
#include <ATen/ops/empty_like.h>

namespace bertkit {

namespace {

// at::internal::GRAIN_SIZE: below this many elements a loop stays on one thread.
constexpr int64_t kGrainSize = 32768;

bool float_contiguous_cpu(const at::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.layout() == at::kStrided && t.scalar_type() == at::kFloat &&
         t.is_contiguous();
}

// Adam's moment update, shared by AdamW and LAMB: m = b1·m + (1-b1)·g and
// v = b2·v + (1-b2)·g², in float32 with the coefficients rounded as ATen rounds
// a Python scalar, in the order of torch's _foreach ops.
struct MomentDecay {
  MomentDecay(double beta1, double beta2)
      : b1(static_cast<float>(beta1)), one_minus_b1(static_cast<float>(1.0 - beta1)),
        b2(static_cast<float>(beta2)), one_minus_b2(static_cast<float>(1.0 - beta2)) {}
  // The new (m, v) from the old ones and the gradient g.
  float first(float m, float g) const { return m * b1 + one_minus_b1 * g; }
  float second(float v, float g) const { return v * b2 + one_minus_b2 * g * g; }
  float b1, one_minus_b1, b2, one_minus_b2;
};

// ATen counts in-place writes (autograd's saved-tensor check); raw pointer
// writes must say so themselves, as ATen's own kernels do.
void bump_version(const at::Tensor& t) { t.unsafeGetTensorImpl()->bump_version(); }

}  // namespace

bool fused_adam_cpu_applies(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                            const at::Tensor& exp_avg_sq) {
  for (const at::Tensor* t : {&param, &grad, &exp_avg, &exp_avg_sq})
    if (!float_contiguous_cpu(*t) || t->numel() != param.numel()) return false;
  return true;
}

bool fused_adam_cpu_applies(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
                            const std::vector<at::Tensor>& exp_avg, const std::vector<at::Tensor>& exp_avg_sq) {
  for (size_t i = 0; i < params.size(); ++i)
    if (!fused_adam_cpu_applies(params[i], grads[i], exp_avg[i], exp_avg_sq[i])) return false;
  return !params.empty();
}

void fused_adamw_cpu_(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                      const at::Tensor& exp_avg_sq, double lr, double beta1, double beta2, double weight_decay,
                      double eps, double step) {
  // The scalars as the _foreach path hands them to ATen: doubles, rounded to float.
  const float decay = static_cast<float>(1.0 - lr * weight_decay);  // 1 when weight_decay == 0: exact
  const MomentDecay decay_moments(beta1, beta2);
  const float bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, step)));
  const float neg_step_size = static_cast<float>(-lr / (1.0 - std::pow(beta1, step)));
  const float eps_f = static_cast<float>(eps);
  float* __restrict p = param.data_ptr<float>();
  const float* __restrict g = grad.data_ptr<float>();
  float* __restrict m = exp_avg.data_ptr<float>();
  float* __restrict v = exp_avg_sq.data_ptr<float>();
  at::parallel_for(0, param.numel(), kGrainSize, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float mi = decay_moments.first(m[i], g[i]);
      const float vi = decay_moments.second(v[i], g[i]);
      const float denom = std::sqrt(vi) / bias_correction2_sqrt + eps_f;
      p[i] = p[i] * decay + neg_step_size * (mi / denom);
      m[i] = mi;
      v[i] = vi;
    }
  });
  for (const at::Tensor* t : {&param, &exp_avg, &exp_avg_sq}) bump_version(*t);
}

at::Tensor fused_lamb_update_cpu(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                                 const at::Tensor& exp_avg_sq, double beta1, double beta2, double weight_decay,
                                 double eps, double bias_correction1, double bias_correction2) {
  const MomentDecay decay_moments(beta1, beta2);
  const float bc1 = static_cast<float>(bias_correction1), bc2 = static_cast<float>(bias_correction2);
  const float wd = static_cast<float>(weight_decay), eps_f = static_cast<float>(eps);
  at::Tensor update = at::empty_like(param);
  const float* __restrict p = param.data_ptr<float>();
  const float* __restrict g = grad.data_ptr<float>();
  float* __restrict m = exp_avg.data_ptr<float>();
  float* __restrict v = exp_avg_sq.data_ptr<float>();
  float* __restrict u = update.data_ptr<float>();
  at::parallel_for(0, param.numel(), kGrainSize, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float mi = decay_moments.first(m[i], g[i]);
      const float vi = decay_moments.second(v[i], g[i]);
      u[i] = (mi / bc1) / (std::sqrt(vi / bc2) + eps_f) + wd * p[i];
      m[i] = mi;
      v[i] = vi;
    }
  });
  for (const at::Tensor* t : {&exp_avg, &exp_avg_sq}) bump_version(*t);
  return update;
}

}  // namespace bertkit
