#include "bertkit/nn/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <mutex>

#include "bertkit/core/error.h"

namespace bertkit {

namespace {

// SplitMix64's output function: a bijective 64-bit mix, good enough to turn
// (seed, counter) into independent-looking uniform bits.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t next_seed_from_default_generator() {
  auto* gen = at::check_generator<at::CPUGeneratorImpl>(at::detail::getDefaultCPUGenerator());
  std::lock_guard<std::mutex> lock(gen->mutex_);
  return gen->random64();
}

// noise[i] = keep ? scale : 0, keep iff the i-th 32-bit draw < threshold; two draws per hash.
template <typename T>
void fill_noise(T* noise, int64_t n, uint64_t seed, uint32_t threshold, T scale) {
  constexpr int64_t kGrain = 1 << 15;  // even: a pair of draws never straddles two chunks
  at::parallel_for(0, (n + kGrain - 1) / kGrain, 1, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) {
      const int64_t begin = c * kGrain, end = std::min(n, begin + kGrain);
      for (int64_t i = begin; i < end; i += 2) {
        const uint64_t bits = mix64(seed + static_cast<uint64_t>(i / 2) * 0x9e3779b97f4a7c15ULL);
        noise[i] = static_cast<uint32_t>(bits) < threshold ? scale : T(0);
        if (i + 1 < end) noise[i + 1] = static_cast<uint32_t>(bits >> 32) < threshold ? scale : T(0);
      }
    }
  });
}

}  // namespace

torch::Tensor dropout_noise(const torch::Tensor& like, double p) {
  if (!(p > 0.0)) throw RuntimeError("dropout_noise: p must be above 0, got " + std::to_string(p));
  if (p >= 1.0) return torch::zeros_like(like, torch::MemoryFormat::Contiguous);
  if (!like.device().is_cpu())
    return torch::empty_like(like, torch::MemoryFormat::Contiguous).bernoulli_(1.0 - p).div_(1.0 - p);
  const auto dtype = like.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  auto noise = torch::empty(like.sizes(), like.options().dtype(dtype).memory_format(torch::MemoryFormat::Contiguous));
  const auto threshold = static_cast<uint32_t>(std::min(4294967295.0, (1.0 - p) * 4294967296.0));
  const uint64_t seed = next_seed_from_default_generator();
  if (dtype == torch::kDouble)
    fill_noise<double>(noise.data_ptr<double>(), noise.numel(), seed, threshold, 1.0 / (1.0 - p));
  else
    fill_noise<float>(noise.data_ptr<float>(), noise.numel(), seed, threshold, static_cast<float>(1.0 / (1.0 - p)));
  return noise.scalar_type() == like.scalar_type() ? noise : noise.to(like.scalar_type());
}

torch::Tensor dropout(const torch::Tensor& input, double p, bool training) {
  if (!training || p <= 0.0 || input.numel() == 0) return input;
  if (!input.device().is_cpu()) return torch::dropout(input, p, training);
  torch::Tensor noise;
  {
    torch::NoGradGuard no_grad;
    noise = dropout_noise(input, p);
  }
  return input * noise;
}

DropoutImpl::DropoutImpl(double p) : p(p) {
  if (p < 0.0 || p > 1.0) throw InputError("dropout probability must be in [0, 1], got " + std::to_string(p));
}

}  // namespace bertkit
