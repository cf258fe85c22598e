// Helpers the pipelines share (src/pipelines/*.cc): one encoding as model
// inputs, length caps, softmax, label names.
// Internal to bertkit_tasks. Legend: T tokens.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bertkit/pipelines/pipelines.h"

namespace bertkit::pipelines {

// One encoding -> model inputs [1, T].
Batch to_batch(const Encoding& e, torch::Device device);

// The longest input the model and its tokenizer accept.
std::size_t max_len(const LoadedModel& m);

// A tensor's values as floats, on the host.
std::vector<float> to_vector(const torch::Tensor& t);

// numpy-style softmax over a row, in float32.
std::vector<float> softmax(const std::vector<float>& x);

// id2label[i], or HF's default name LABEL_i.
std::string label_of(const BertConfig& c, int64_t i);

}  // namespace bertkit::pipelines
