// Optimizers with HF / PyTorch semantics, over named parameters.
//
// Parameter grouping as HF Trainer: weight decay for every parameter except
// those whose name ends in "bias" or contains "LayerNorm" (hf_no_decay).
//
// AdamW is torch.optim.AdamW (decoupled weight decay, bias correction, eps
// added outside the square root), computed in the same operation order so that
// one step matches PyTorch to rounding:
//   p  <- p * (1 - lr * wd)
//   m  <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
//   p  <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//
// LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning", Alg. 2,
// with NVIDIA's apex FusedLAMB conventions): per parameter tensor
//   m, v as Adam (with bias correction, as FusedLAMB's default);
//   u  <- m_hat / (sqrt(v_hat) + eps) + wd * p
//   r  <- ||p|| / ||u||  if both norms > 0, else 1        (trust ratio; not clipped)
//   p  <- p - lr * r * u
// As apex FusedLAMB (use_nvlamb=False), the trust ratio applies to parameters
// with weight decay; no-decay parameters (biases, LayerNorm) take the plain
// Adam-style step (r = 1) unless LambOptions::adapt_no_decay is set (NVLAMB).
// No gradient pre-normalisation (FusedLAMB's max_grad_norm is left to the
// trainer's clip_grad_norm).
//
// Both update all parameters of a weight-decay group at once with the
// multi-tensor at::_foreach_* ops (one kernel per operation and group on CUDA,
// not one per parameter); AdamW on CUDA with LibTorch >= 2.1 uses the single
// fused kernel at::_fused_adamw_ (BERTKIT_HAVE_FUSED_ADAMW; unmeasured here).
// On the CPU, float32 contiguous parameters take a single-pass loop instead
// (nn/fused_adam_cpu.h: AdamW's whole step, LAMB's moments and update
// direction), equal to the _foreach path up to float rounding. `fused = false`
// (torch.optim's fused=False) keeps every parameter on the _foreach path.
//
// State is exportable as named tensors so a checkpoint resumes bit-exactly:
// "<param name>.exp_avg", "<param name>.exp_avg_sq", "<param name>.step" (int64:
// the updates this parameter received; as in PyTorch, a parameter without a
// gradient is skipped and its own step count, used for bias correction, does
// not advance) and "step" (int64, the number of step() calls).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "bertkit/nn/torch_compat.h"

// at::_fused_adamw_ (CUDA) appeared in LibTorch 2.1.
#define BERTKIT_HAVE_FUSED_ADAMW BERTKIT_TORCH_AT_LEAST(2, 1)

namespace bertkit {

// HF Trainer's rule: no weight decay for names ending in "bias" or containing "LayerNorm".
bool hf_no_decay(const std::string& param_name);

struct NamedParam {
  std::string name;
  torch::Tensor param;
  double weight_decay = 0.0;  // this parameter's decay (0 for no-decay names)
};

// module.named_parameters() (requires_grad only), each with weight_decay or 0
// as hf_no_decay says.
std::vector<NamedParam> group_parameters(const torch::nn::Module& module, double weight_decay);

// torch.nn.utils.clip_grad_norm_(params, max_norm) (2-norm) without reading the
// norm back to the host: returns the total gradient norm as a 0-dim float
// tensor on the gradients' device (undefined when no parameter has a gradient)
// and scales every gradient by min(1, max_norm / (norm + 1e-6)) in place.
// max_norm <= 0 only measures.
torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

class Optimizer {
 public:
  explicit Optimizer(std::vector<NamedParam> params);
  virtual ~Optimizer() = default;
  // One update from the parameters' .grad() (parameters without a grad are skipped).
  virtual void step() = 0;
  void zero_grad();  // sets grads to undefined (set_to_none, PyTorch's default)
  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }
  int64_t step_count() const { return step_; }
  const std::vector<NamedParam>& params() const { return params_; }
  // Named state tensors (on the parameters' device; callers move them to CPU to save).
  virtual std::map<std::string, torch::Tensor> state_dict() const;
  // Restore state_dict() output; InputError naming the key on a missing key or a
  // shape mismatch. Tensors are copied to the parameters' device and dtype.
  virtual void load_state_dict(const std::map<std::string, torch::Tensor>& state);

 protected:
  std::vector<NamedParam> params_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;  // lazily allocated, one per param
  std::vector<int64_t> param_steps_;                 // per-param update counts (PyTorch's state['step'])
  double lr_ = 1e-3;
  int64_t step_ = 0;
  void ensure_state();
  // The parameters with a gradient, grouped by weight decay, with their state
  // and their update counts after this step (each advanced by one).
  struct UpdateGroup {
    double weight_decay = 0.0;
    std::vector<torch::Tensor> params, grads, exp_avg, exp_avg_sq;
    std::vector<double> steps;
  };
  std::vector<UpdateGroup> start_update();
};

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  bool fused = true;  // single-pass kernels where they apply (see above), else _foreach
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<NamedParam> params, const AdamWOptions& options);
  void step() override;
  const AdamWOptions& options() const { return options_; }

 private:
  AdamWOptions options_;
};

struct LambOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-6;
  bool bias_correction = true;
  bool adapt_no_decay = false;  // apply the trust ratio to no-decay parameters too (apex use_nvlamb)
  bool fused = true;            // the single-pass CPU moment update where it applies, else _foreach
};

class Lamb : public Optimizer {
 public:
  Lamb(std::vector<NamedParam> params, const LambOptions& options);
  void step() override;
  const LambOptions& options() const { return options_; }

 private:
  LambOptions options_;
  // The group's update directions m_hat / (sqrt(v_hat) + eps) + wd * p, after
  // updating its moments.
  std::vector<torch::Tensor> update_directions(UpdateGroup& group) const;
};

}  // namespace bertkit
