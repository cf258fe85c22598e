// Mixed precision: fp32 | bf16 | fp16.
//   bf16: autocast to bfloat16 (CUDA; on CPU where this LibTorch supports CPU autocast)
//   fp16: autocast to float16 with dynamic loss scaling (CUDA only)
// Weights and optimizer state stay fp32 in every mode.
#pragma once

#include <string>

#include <torch/types.h>

namespace bertkit {

enum class Precision { FP32, BF16, FP16 };
Precision parse_precision(const std::string& s, const std::string& where = "train.precision");
std::string precision_name(Precision p);
// InputError when `p` cannot run on `device` (fp16 on CPU).
void check_precision(Precision p, const torch::Device& device, const std::string& where = "train.precision");

// RAII: autocast on for `device` while alive (no-op for FP32).
class AutocastGuard {
 public:
  AutocastGuard(Precision p, const torch::Device& device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool prev_enabled_ = false;
  torch::Dtype prev_dtype_ = torch::kFloat;
};

}  // namespace bertkit
