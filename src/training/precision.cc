#include "bertkit/training/precision.h"

#include <ATen/autocast_mode.h>

#include "bertkit/core/error.h"
#include "bertkit/nn/torch_compat.h"

namespace bertkit {

Precision parse_precision(const std::string& s, const std::string& where) {
  if (s == "fp32") return Precision::FP32;
  if (s == "bf16") return Precision::BF16;
  if (s == "fp16") return Precision::FP16;
  throw InputError(where + ": expected fp32, bf16 or fp16, got \"" + s + "\"");
}

std::string precision_name(Precision p) {
  switch (p) {
    case Precision::FP32: return "fp32";
    case Precision::BF16: return "bf16";
    case Precision::FP16: return "fp16";
  }
  return "?";
}

void check_precision(Precision p, const torch::Device& device, const std::string& where) {
  if (p == Precision::FP16 && !device.is_cuda())
    throw InputError(where + ": fp16 needs a CUDA device (dynamic loss scaling of fp16 autocast); on " + device.str() +
                     " use bf16 or fp32");
#if !BERTKIT_TORCH_AT_LEAST(2, 0)
  // LibTorch 1.x CPU autocast leaves LayerNorm without a residual (the MLM head
  // transform) with a bf16 input and fp32 weights, which its CPU kernel rejects.
  if (p == Precision::BF16 && !device.is_cuda())
    throw InputError(where + ": bf16 on CPU needs LibTorch >= 2.0 (this is " + std::string(TORCH_VERSION) +
                     ", whose CPU autocast cannot run BERT's LayerNorm); use fp32 on CPU or bf16 on CUDA");
#endif
}

AutocastGuard::AutocastGuard(Precision p, const torch::Device& device) {
  if (p == Precision::FP32) return;
  const torch::Dtype dtype = p == Precision::BF16 ? torch::kBFloat16 : torch::kHalf;
  active_ = true;
  cuda_ = device.is_cuda();
#if BERTKIT_HAVE_AUTOCAST_DEVICE_TYPE
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  prev_enabled_ = at::autocast::is_autocast_enabled(type);
  prev_dtype_ = at::autocast::get_autocast_dtype(type);
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, true);
#else
  if (cuda_) {
    prev_enabled_ = at::autocast::is_enabled();
    prev_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
  } else {
    prev_enabled_ = at::autocast::is_cpu_enabled();
    prev_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(true);
  }
#endif
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if BERTKIT_HAVE_AUTOCAST_DEVICE_TYPE
  const auto type = cuda_ ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, prev_enabled_);
  at::autocast::set_autocast_dtype(type, prev_dtype_);
#else
  if (cuda_) {
    at::autocast::set_enabled(prev_enabled_);
    at::autocast::set_autocast_gpu_dtype(prev_dtype_);
  } else {
    at::autocast::set_cpu_enabled(prev_enabled_);
    at::autocast::set_autocast_cpu_dtype(prev_dtype_);
  }
#endif
}

}  // namespace bertkit
