// Dropout (HF's nn.Dropout: zero each element with probability p, scale the kept
// ones by 1/(1-p)) with a faster mask generator on the CPU.
//
// LibTorch 1.13's CPU bernoulli_ draws each element from a locked Mersenne
// Twister (~10 ns an element: 5% of a bert-mini pretraining step). Here each
// call takes one 64-bit seed from the default CPU generator, so
// torch::manual_seed and the generator state saved in checkpoints still decide
// every mask, and element i keeps iff a counter-based hash of (seed, i) falls
// below (1-p)·2^32: the same mask for any thread count. The masks differ from
// torch's own draws (same distribution). On other devices torch's dropout runs.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace bertkit {

// A tensor shaped like `like` holding 0 (dropped) or 1/(1-p) (kept), for p > 0 (all 0 from p = 1 on).
torch::Tensor dropout_noise(const torch::Tensor& like, double p);

// input * dropout_noise(input, p) when training and p > 0; input otherwise.
torch::Tensor dropout(const torch::Tensor& input, double p, bool training);

class DropoutImpl : public torch::nn::Cloneable<DropoutImpl> {
 public:
  explicit DropoutImpl(double p = 0.5);
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& input) { return bertkit::dropout(input, p, is_training()); }

  double p;
};
TORCH_MODULE(Dropout);

}  // namespace bertkit
