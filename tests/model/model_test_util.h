// Helpers for the model suite: fixture loading and tolerance checks.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>

#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/batch.h"
#include "bertkit/nn/tensor_io.h"
#include "test_util.h"

namespace bertkit::test {

inline const std::vector<std::string>& hf_tiny_heads() {
  static const std::vector<std::string> heads = {"maskedlm", "pretraining", "qa", "seqcls", "tokcls"};
  return heads;
}

inline std::string hf_tiny(const std::string& head) { return shared_path("fixtures/hf-tiny/" + head); }

// The inputs of a reference.safetensors as a Batch on `device`.
inline Batch batch_from(const std::map<std::string, torch::Tensor>& ref, const torch::Device& device) {
  Batch b;
  auto get = [&](const char* k) { auto it = ref.find(k); return it == ref.end() ? torch::Tensor() : it->second; };
  b.input_ids = get("input_ids");
  b.token_type_ids = get("token_type_ids");
  b.attention_mask = get("attention_mask");
  b.labels = get("labels");
  b.next_sentence_label = get("next_sentence_label");
  b.start_positions = get("start_positions");
  b.end_positions = get("end_positions");
  return b.to(device);
}

// max |a - b| <= rtol * max |b| (+ atol): relative to the tensor's scale.
inline ::testing::AssertionResult close_rel(const std::string& what, const torch::Tensor& got,
                                            const torch::Tensor& want, double rtol, double atol = 0.0) {
  if (!got.defined()) return ::testing::AssertionFailure() << what << ": not produced";
  auto g = got.detach().to(torch::kCPU, torch::kFloat64).reshape(want.sizes());
  auto w = want.to(torch::kFloat64);
  if (g.sizes() != w.sizes()) return ::testing::AssertionFailure() << what << ": shape mismatch";
  double diff = (g - w).abs().max().item<double>();
  double scale = w.abs().max().item<double>();
  if (diff <= rtol * scale + atol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": max |diff| " << diff << " > " << rtol << " x max|ref| " << scale
                                       << " + " << atol;
}

inline std::vector<torch::Device> test_devices() {
  std::vector<torch::Device> d = {torch::kCPU};
  if (torch::cuda::is_available()) d.emplace_back(torch::kCUDA, 0);
  return d;
}

}  // namespace bertkit::test
