#include "bertkit/pipelines/pipelines.h"

#include <algorithm>
#include <cmath>

#include "pipeline_util.h"

namespace bertkit::pipelines {

// One encoding -> model inputs [1, T].
Batch to_batch(const Encoding& e, torch::Device device) {
  auto ids = torch::tensor(std::vector<int64_t>(e.ids.begin(), e.ids.end()), torch::kLong).unsqueeze(0);
  std::vector<int64_t> tt(e.type_ids.begin(), e.type_ids.end());
  if (tt.empty()) tt.assign(e.ids.size(), 0);
  std::vector<int64_t> am(e.attention_mask.begin(), e.attention_mask.end());
  if (am.empty()) am.assign(e.ids.size(), 1);
  Batch b;
  b.input_ids = ids.to(device);
  b.token_type_ids = torch::tensor(tt, torch::kLong).unsqueeze(0).to(device);
  b.attention_mask = torch::tensor(am, torch::kLong).unsqueeze(0).to(device);
  return b;
}

std::size_t max_len(const LoadedModel& m) {
  std::size_t cap = static_cast<std::size_t>(m.model->config.max_position_embeddings);
  std::size_t t = m.tokenizer->model_max_length();
  return t > 0 ? std::min(t, cap) : cap;
}

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// numpy-style softmax over a row, in float32.
std::vector<float> softmax(const std::vector<float>& x) {
  float mx = *std::max_element(x.begin(), x.end());
  std::vector<float> e(x.size());
  float sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += (e[i] = std::exp(x[i] - mx));
  for (auto& v : e) v /= sum;
  return e;
}

std::string label_of(const BertConfig& c, int64_t i) {
  auto it = c.id2label.find(i);
  return it != c.id2label.end() ? it->second : "LABEL_" + std::to_string(i);
}

}  // namespace bertkit::pipelines
