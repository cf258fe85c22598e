#include "bertkit/nn/optimizers.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "bertkit/core/error.h"
#include "bertkit/nn/fused_adam_cpu.h"

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

torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return {};
  // As torch.nn.utils.clip_grad_norm_: the norm of the per-tensor norms.
  std::vector<torch::Tensor> norms = at::_foreach_norm(grads, 2);
  torch::Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
  if (max_norm <= 0) return total;
  torch::Tensor coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
#if BERTKIT_TORCH_AT_LEAST(2, 1)
  at::_foreach_mul_(grads, coef);
#else
  for (auto& g : grads) g.mul_(coef);
#endif
  return total;
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

std::vector<Optimizer::UpdateGroup> Optimizer::start_update() {
  std::vector<UpdateGroup> groups;
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& g = params_[i].param.grad();
    if (!g.defined()) continue;
    const double wd = params_[i].weight_decay;
    // On the CPU the _foreach ops loop over their tensors anyway: one parameter
    // per group keeps the temporaries (AdamW's denominators) of one parameter
    // alive at a time, as torch's single-tensor path, not a copy of the model.
    auto it = g.is_cuda() ? std::find_if(groups.begin(), groups.end(), [&](const UpdateGroup& u) { return u.weight_decay == wd; })
                          : groups.end();
    if (it == groups.end()) it = groups.insert(groups.end(), UpdateGroup{wd});
    it->params.push_back(params_[i].param);
    it->grads.push_back(g);
    it->exp_avg.push_back(exp_avg_[i]);
    it->exp_avg_sq.push_back(exp_avg_sq_[i]);
    it->steps.push_back(static_cast<double>(++param_steps_[i]));
  }
  return groups;
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

namespace {

std::vector<c10::Scalar> scalars(const std::vector<double>& steps, const std::function<double(double)>& f) {
  std::vector<c10::Scalar> out;
  out.reserve(steps.size());
  for (double t : steps) out.emplace_back(f(t));
  return out;
}

#if BERTKIT_HAVE_FUSED_ADAMW
// The whole group in one CUDA kernel (torch.optim.AdamW(fused=True)); false
// when the group does not qualify (not all float CUDA tensors of one device).
bool fused_adamw(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& grads,
                 const std::vector<torch::Tensor>& exp_avg, const std::vector<torch::Tensor>& exp_avg_sq,
                 const std::vector<double>& steps, double lr, double wd, const AdamWOptions& o) {
  for (const auto& p : params)
    if (!p.is_cuda() || p.device() != params[0].device() || !at::isFloatingType(p.scalar_type())) return false;
  std::vector<torch::Tensor> state_steps;
  for (double t : steps) state_steps.push_back(torch::full({}, t, params[0].options().dtype(torch::kFloat)));
  at::_fused_adamw_(params, grads, exp_avg, exp_avg_sq, /*max_exp_avg_sqs=*/{}, state_steps, lr, o.beta1, o.beta2, wd,
                    o.eps, /*amsgrad=*/false, /*maximize=*/false);
  return true;
}
#endif

}  // namespace

void AdamW::step() {
  torch::NoGradGuard no_grad;
  ensure_state();
  ++step_;
  const double b1 = options_.beta1, b2 = options_.beta2, lr = lr_;
  for (auto& g : start_update()) {
#if BERTKIT_HAVE_FUSED_ADAMW
    if (options_.fused && fused_adamw(g.params, g.grads, g.exp_avg, g.exp_avg_sq, g.steps, lr, g.weight_decay, options_))
      continue;
#endif
    if (options_.fused && fused_adam_cpu_applies(g.params, g.grads, g.exp_avg, g.exp_avg_sq)) {
      for (size_t k = 0; k < g.params.size(); ++k)
        fused_adamw_cpu_(g.params[k], g.grads[k], g.exp_avg[k], g.exp_avg_sq[k], lr, b1, b2, g.weight_decay,
                         options_.eps, g.steps[k]);
      continue;
    }
    // As torch.optim.AdamW's multi-tensor path: Python floats (double) per parameter.
    if (g.weight_decay != 0.0) at::_foreach_mul_(g.params, 1.0 - lr * g.weight_decay);
    at::_foreach_mul_(g.exp_avg, b1);
    at::_foreach_add_(g.exp_avg, g.grads, 1.0 - b1);
    at::_foreach_mul_(g.exp_avg_sq, b2);
    at::_foreach_addcmul_(g.exp_avg_sq, g.grads, g.grads, 1.0 - b2);
    std::vector<torch::Tensor> denom = at::_foreach_sqrt(g.exp_avg_sq);
    at::_foreach_div_(denom, scalars(g.steps, [&](double t) { return std::sqrt(1.0 - std::pow(b2, t)); }));
    at::_foreach_add_(denom, options_.eps);
    at::_foreach_addcdiv_(g.params, g.exp_avg, denom,
                          scalars(g.steps, [&](double t) { return -lr / (1.0 - std::pow(b1, t)); }));
  }
}

Lamb::Lamb(std::vector<NamedParam> params, const LambOptions& options)
    : Optimizer(std::move(params)), options_(options) {
  lr_ = options.lr;
}

std::vector<torch::Tensor> Lamb::update_directions(UpdateGroup& g) const {
  const double b1 = options_.beta1, b2 = options_.beta2;
  const bool bc = options_.bias_correction;
  auto bias_correction = [&](double beta, double t) { return bc ? 1.0 - std::pow(beta, t) : 1.0; };
  if (options_.fused && fused_adam_cpu_applies(g.params, g.grads, g.exp_avg, g.exp_avg_sq)) {
    std::vector<torch::Tensor> update;
    for (size_t k = 0; k < g.params.size(); ++k)
      update.push_back(fused_lamb_update_cpu(g.params[k], g.grads[k], g.exp_avg[k], g.exp_avg_sq[k], b1, b2,
                                             g.weight_decay, options_.eps, bias_correction(b1, g.steps[k]),
                                             bias_correction(b2, g.steps[k])));
    return update;
  }
  at::_foreach_mul_(g.exp_avg, b1);
  at::_foreach_add_(g.exp_avg, g.grads, 1.0 - b1);
  at::_foreach_mul_(g.exp_avg_sq, b2);
  at::_foreach_addcmul_(g.exp_avg_sq, g.grads, g.grads, 1.0 - b2);
  // update = (m / bc1) / (sqrt(v / bc2) + eps) + wd * p
  std::vector<torch::Tensor> update =
      at::_foreach_div(g.exp_avg, scalars(g.steps, [&](double t) { return bias_correction(b1, t); }));
  std::vector<torch::Tensor> denom =
      at::_foreach_div(g.exp_avg_sq, scalars(g.steps, [&](double t) { return bias_correction(b2, t); }));
  at::_foreach_sqrt_(denom);
  at::_foreach_add_(denom, options_.eps);
  at::_foreach_div_(update, denom);
  if (g.weight_decay != 0.0) at::_foreach_add_(update, g.params, g.weight_decay);
  return update;
}

void Lamb::step() {
  torch::NoGradGuard no_grad;
  ensure_state();
  ++step_;
  for (auto& g : start_update()) {
    std::vector<torch::Tensor> update = update_directions(g);
    if (g.weight_decay != 0.0 || options_.adapt_no_decay) {
      // Trust ratios ||p|| / ||u|| (1 when either is 0), on the device.
      std::vector<torch::Tensor> w_norm = at::_foreach_norm(g.params), u_norm = at::_foreach_norm(update);
      for (size_t k = 0; k < update.size(); ++k) {
        auto ratio = torch::where((w_norm[k] > 0) & (u_norm[k] > 0), w_norm[k] / u_norm[k], torch::ones_like(w_norm[k]));
        update[k].mul_(ratio);
      }
    }
    at::_foreach_add_(g.params, update, -lr_);
  }
}

}  // namespace bertkit
