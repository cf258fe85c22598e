// HF model directories in and out (DESIGN.md decision 2).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bertkit/models/bert_model.h"

namespace bertkit {

struct LoadReport {
  std::vector<std::string> missing_keys;      // freshly initialised
  std::vector<std::string> unexpected_keys;   // in the file, unused
  std::vector<std::string> renamed_keys;      // legacy spellings mapped (gamma/beta, no "bert." prefix)
};

struct LoadOptions {
  std::optional<Architecture> architecture;  // default: config.json's architectures[0]
  std::optional<int64_t> num_labels;         // override for a new classifier head
  torch::Device device = torch::kCPU;
  bool verbose = true;                       // print the report as HF does
};

// Load config.json + weights (model.safetensors, sharded index, pytorch_model.bin)
// from an HF directory or a bertkit training checkpoint.
BertPreTrainedModel load_pretrained(const std::string& dir, const LoadOptions& options = {},
                                    LoadReport* report = nullptr);

enum class SaveDType { F32, F16, BF16 };
SaveDType parse_save_dtype(const std::string& s);  // fp32|fp16|bf16

// Write config.json (with architectures) + model.safetensors atomically.
// The tied MLM decoder weight is omitted as HF omits it.
void save_pretrained(const BertPreTrainedModel& model, const std::string& dir,
                     SaveDType dtype = SaveDType::F32);

}  // namespace bertkit
