#include "bertkit/nn/varlen_attention.h"

#include <torch/torch.h>

#include "bertkit/nn/dropout.h"

namespace bertkit {

namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows [run.offset, run.offset + count*length) of a flat [N, NH*D] tensor as [G, NH, L, D].
Tensor run_heads(const Tensor& flat, const SequenceRun& run, int64_t num_heads) {
  const int64_t head_dim = flat.size(1) / num_heads;
  return flat.narrow(0, run.offset, run.count * run.length)
      .view({run.count, run.length, num_heads, head_dim})
      .transpose(1, 2);
}

// Writes a [G, NH, L, D] result into its run's rows of a flat [N, NH*D] tensor.
void store_run(Tensor& flat, const SequenceRun& run, int64_t num_heads, const Tensor& heads) {
  run_heads(flat, run, num_heads).copy_(heads);
}

// What the forward keeps of one run for the backward.
struct RunSaved {
  Tensor probs;  // [G,NH,L,L] softmax output
  Tensor noise;  // dropout's scaled keep mask (undefined without dropout)
};

// context = dropout(softmax(q k^T * scale)) v for one run, with nn/dropout.h's mask.
Tensor attend_run(const Tensor& q, const Tensor& k, const Tensor& v, const VarlenAttentionOptions& o,
                  RunSaved& saved) {
  auto probs = torch::softmax(torch::matmul(q, k.transpose(-1, -2)) * o.scale, -1);
  Tensor noise, dropped = probs;
  if (o.training && o.dropout_p > 0.0) {
    noise = dropout_noise(probs, o.dropout_p);
    dropped = probs * noise;
  }
  saved = {probs, noise};
  return torch::matmul(dropped, v);
}

// A result [N, NH*D] like `like`: zeros only where no run writes (sequences of length 0).
Tensor context_like(const Tensor& like, const std::vector<SequenceRun>& runs) {
  int64_t covered = 0;
  for (const auto& r : runs) covered += r.count * r.length;
  return covered == like.size(0) ? torch::empty_like(like) : torch::zeros_like(like);
}

std::vector<SequenceRun> runs_of(const torch::IValue& packed) {
  std::vector<SequenceRun> runs;
  auto flat = packed.toIntVector();
  for (std::size_t i = 0; i + 2 < flat.size(); i += 3) runs.push_back({flat[i], flat[i + 1], flat[i + 2]});
  return runs;
}

std::vector<int64_t> packed_runs(const std::vector<SequenceRun>& runs) {
  std::vector<int64_t> flat;
  for (const auto& r : runs) flat.insert(flat.end(), {r.offset, r.count, r.length});
  return flat;
}

// The context of every run; `saved` (if given) gets each run's probabilities and mask.
Tensor attend_runs(const Tensor& q, const Tensor& k, const Tensor& v, const std::vector<SequenceRun>& runs,
                   const VarlenAttentionOptions& o, variable_list* saved) {
  auto out = context_like(q, runs);
  for (const auto& run : runs) {
    RunSaved s;
    auto h = [&](const Tensor& x) { return run_heads(x, run, o.num_heads); };
    store_run(out, run, o.num_heads, attend_run(h(q), h(k), h(v), o, s));
    if (saved) saved->insert(saved->end(), {s.probs, s.noise});
  }
  return out;
}

class VarlenAttentionFunction : public torch::autograd::Function<VarlenAttentionFunction> {
 public:
  static Tensor forward(AutogradContext* ctx, const Tensor& q, const Tensor& k, const Tensor& v,
                        const UnpaddedLayout* layout, VarlenAttentionOptions o) {
    variable_list saved = {q, k, v};
    auto out = attend_runs(q, k, v, layout->runs, o, &saved);
    ctx->save_for_backward(saved);
    ctx->saved_data["runs"] = packed_runs(layout->runs);
    ctx->saved_data["num_heads"] = o.num_heads;
    ctx->saved_data["scale"] = o.scale;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const Tensor &q = saved[0], &k = saved[1], &v = saved[2];
    const auto runs = runs_of(ctx->saved_data["runs"]);
    const int64_t num_heads = ctx->saved_data["num_heads"].toInt();
    const double scale = ctx->saved_data["scale"].toDouble();
    const Tensor grad_out = grad_outputs[0].contiguous();
    auto dq = context_like(q, runs), dk = context_like(k, runs), dv = context_like(v, runs);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto& run = runs[i];
      const Tensor &probs = saved[3 + 2 * i], &noise = saved[4 + 2 * i];
      auto h = [&](const Tensor& x) { return run_heads(x, run, num_heads); };
      const Tensor g = h(grad_out);                                           // [G,NH,L,D]
      const Tensor dropped = noise.defined() ? probs * noise : probs;
      // Under autocast the probabilities may be kept in another dtype than q/k/v.
      store_run(dv, run, num_heads, torch::matmul(dropped.transpose(-1, -2), g.to(dropped.scalar_type())));
      auto d_probs = torch::matmul(g, h(v).transpose(-1, -2)).to(probs.scalar_type());  // [G,NH,L,L]
      if (noise.defined()) d_probs.mul_(noise);
      auto d_scores = torch::_softmax_backward_data(d_probs, probs, -1, probs.scalar_type()).mul_(scale);
      d_scores = d_scores.to(q.scalar_type());
      store_run(dq, run, num_heads, torch::matmul(d_scores, h(k)));
      store_run(dk, run, num_heads, torch::matmul(d_scores.transpose(-1, -2), h(q)));
    }
    return {dq, dk, dv, Tensor(), Tensor()};
  }
};

}  // namespace

torch::Tensor varlen_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const UnpaddedLayout& layout, const VarlenAttentionOptions& options) {
  const bool needs_grad = torch::GradMode::is_enabled() &&
                          (q.requires_grad() || k.requires_grad() || v.requires_grad());
  if (needs_grad) return VarlenAttentionFunction::apply(q, k, v, &layout, options);
  return attend_runs(q, k, v, layout.runs, options, nullptr);
}

}  // namespace bertkit
