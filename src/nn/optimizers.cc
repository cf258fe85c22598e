#include "bertkit/nn/optimizers.h"

#include <cmath>

#include "bertkit/core/error.h"

namespace bertkit {

bool hf_no_decay(const std::string& name) {
  const std::string bias = "bias";
  bool ends_bias = name.size() >= bias.size() && name.compare(name.size() - bias.size(), bias.size(), bias) == 0;
  return ends_bias || name.find("LayerNorm") != std::string::npos;
}

std::vector<NamedParam> group_parameters(const torch::nn::Module& module, double weight_decay) {
  std::vector<NamedParam> out;
  for (const auto& p : module.named_parameters()) {
    if (!p.value().requires_grad()) continue;
    out.push_back({p.key(), p.value(), hf_no_decay(p.key()) ? 0.0 : weight_decay});
  }
  return out;
}

Optimizer::Optimizer(std::vector<NamedParam> params) : params_(std::move(params)) {}

void Optimizer::zero_grad() {
  for (auto& p : params_)
    if (p.param.grad().defined()) p.param.mutable_grad() = torch::Tensor();
}

void Optimizer::ensure_state() {
  if (exp_avg_.size() == params_.size()) return;
  exp_avg_.clear();
  exp_avg_sq_.clear();
  param_steps_.assign(params_.size(), 0);
  for (auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p.param, torch::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p.param, torch::MemoryFormat::Preserve));
  }
}

std::map<std::string, torch::Tensor> Optimizer::state_dict() const {
  std::map<std::string, torch::Tensor> out;
  out["step"] = torch::tensor({step_}, torch::kInt64);
  for (size_t i = 0; i < exp_avg_.size(); ++i) {
    out[params_[i].name + ".exp_avg"] = exp_avg_[i].detach();
    out[params_[i].name + ".exp_avg_sq"] = exp_avg_sq_[i].detach();
    out[params_[i].name + ".step"] = torch::tensor({param_steps_[i]}, torch::kInt64);
  }
  return out;
}

void Optimizer::load_state_dict(const std::map<std::string, torch::Tensor>& state) {
  auto get = [&](const std::string& key) -> const torch::Tensor& {
    auto it = state.find(key);
    if (it == state.end()) throw InputError("optimizer state: missing key '" + key + "'");
    return it->second;
  };
  const auto& step = get("step");
  if (step.numel() != 1) throw InputError("optimizer state: key 'step' must hold one number");
  int64_t new_step = step.to(torch::kInt64).reshape({-1})[0].item<int64_t>();
  std::vector<torch::Tensor> m, v;
  std::vector<int64_t> steps;
  if (new_step > 0) {
    for (const auto& p : params_) {
      const auto& ps = get(p.name + ".step");
      if (ps.numel() != 1) throw InputError("optimizer state: key '" + p.name + ".step' must hold one number");
      steps.push_back(ps.to(torch::kInt64).reshape({-1})[0].item<int64_t>());
      for (const char* suffix : {".exp_avg", ".exp_avg_sq"}) {
        const auto& t = get(p.name + suffix);
        if (t.sizes() != p.param.sizes())
          throw InputError("optimizer state: key '" + p.name + suffix + "' has shape " + c10::str(t.sizes()) +
                           ", the parameter has " + c10::str(p.param.sizes()));
        (std::string(suffix) == ".exp_avg" ? m : v).push_back(t.to(p.param.device(), p.param.scalar_type()).clone());
      }
    }
  }
  step_ = new_step;
  exp_avg_ = std::move(m);
  exp_avg_sq_ = std::move(v);
  param_steps_ = std::move(steps);
}

AdamW::AdamW(std::vector<NamedParam> params, const AdamWOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  lr_ = options.lr;
}

void AdamW::step() {
  torch::NoGradGuard no_grad;
  ensure_state();
  ++step_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i].param;
    const auto& g = p.grad();
    if (!g.defined()) continue;
    const double t = static_cast<double>(++param_steps_[i]);
    // As torch.optim.AdamW (single-tensor path): Python floats in double.
    const double bias_correction1 = 1.0 - std::pow(b1, t);
    const double bias_correction2 = 1.0 - std::pow(b2, t);
    const double step_size = lr_ / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    if (params_[i].weight_decay != 0.0) p.mul_(1.0 - lr_ * params_[i].weight_decay);
    exp_avg_[i].lerp_(g, 1.0 - b1);
    exp_avg_sq_[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
    auto denom = (exp_avg_sq_[i].sqrt() / bias_correction2_sqrt).add_(options_.eps);
    p.addcdiv_(exp_avg_[i], denom, -step_size);
  }
}

Lamb::Lamb(std::vector<NamedParam> params, const LambOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  lr_ = options.lr;
}

void Lamb::step() {
  torch::NoGradGuard no_grad;
  ensure_state();
  ++step_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i].param;
    const auto& g = p.grad();
    if (!g.defined()) continue;
    const double t = static_cast<double>(++param_steps_[i]);
    const double bc1 = options_.bias_correction ? 1.0 - std::pow(b1, t) : 1.0;
    const double bc2 = options_.bias_correction ? 1.0 - std::pow(b2, t) : 1.0;
    const double wd = params_[i].weight_decay;
    exp_avg_[i].mul_(b1).add_(g, 1.0 - b1);
    exp_avg_sq_[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
    auto update = (exp_avg_[i] / bc1) / ((exp_avg_sq_[i] / bc2).sqrt() + options_.eps);
    if (wd != 0.0) update.add_(p, wd);
    if (wd != 0.0 || options_.adapt_no_decay) {
      // Trust ratio computed on the device (no host sync per parameter).
      auto w_norm = p.norm(), u_norm = update.norm();
      auto ratio = torch::where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, torch::ones_like(w_norm));
      p.add_(update * ratio, -lr_);
    } else {
      p.add_(update, -lr_);
    }
  }
}

}  // namespace bertkit
