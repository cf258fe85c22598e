// Single-pass CPU kernels for the Adam family (the CPU counterpart of
// PyTorch's FusedAdamKernel): one loop per parameter tensor that reads the
// parameter, its gradient, exp_avg and exp_avg_sq once and writes them once,
// instead of the ~8 passes (and a temporary) of the _foreach_* formulation,
// which on the CPU in LibTorch 1.13 is a per-tensor loop of ordinary ops.
//
// The arithmetic is the _foreach path's, operation by operation, in float32
// with each double hyper-parameter rounded to float as ATen rounds a Python
// scalar (so both agree to float rounding; ATen's AVX2 kernels use FMA where
// these loops, built for baseline x86-64, round twice). Elements are
// independent, so the result does not depend on the thread count:
// at::parallel_for splits the loop over the intra-op threads.
//
// Only for float32, contiguous, strided CPU tensors (fused_adam_cpu_applies);
// everything else stays on the _foreach path.
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

namespace bertkit {

// Whether the kernels below take this parameter: param, grad, exp_avg and
// exp_avg_sq all defined, float32, dense, contiguous, on the CPU, same numel.
bool fused_adam_cpu_applies(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                            const at::Tensor& exp_avg_sq);
// The same for every parameter of a group.
bool fused_adam_cpu_applies(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
                            const std::vector<at::Tensor>& exp_avg, const std::vector<at::Tensor>& exp_avg_sq);

// One torch.optim.AdamW step of one parameter in place (argument order of
// at::_fused_adamw_; step = this parameter's update count after the step):
//   p <- p * (1 - lr * weight_decay)
//   m <- m * beta1 + (1 - beta1) * g          v <- v * beta2 + (1 - beta2) * g * g
//   p <- p + (-lr / (1 - beta1^step)) * (m / (sqrt(v) / sqrt(1 - beta2^step) + eps))
void fused_adamw_cpu_(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                      const at::Tensor& exp_avg_sq, double lr, double beta1, double beta2, double weight_decay,
                      double eps, double step);

// LAMB's moment update and update direction of one parameter (bertkit::Lamb):
// m and v updated in place as Adam's, and returned
//   u = (m / bias_correction1) / (sqrt(v / bias_correction2) + eps) + weight_decay * p
// (a new tensor; the trust ratio and the step itself need its norm first).
at::Tensor fused_lamb_update_cpu(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                                 const at::Tensor& exp_avg_sq, double beta1, double beta2, double weight_decay,
                                 double eps, double bias_correction1, double bias_correction2);

}  // namespace bertkit
