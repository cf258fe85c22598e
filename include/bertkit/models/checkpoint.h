// HF model directories in and out (docs/architecture.md).
#pragma once

#include <functional>
#include <map>
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
// The whole directory is replaced atomically (core/fs.h write_dir_atomic):
// `extra_files(tmp_dir)`, when given, writes further files (tokenizer files,
// optimizer state, trainer_state.json) into the new directory before it is
// moved into place. Files already in `dir` are not kept.
void save_pretrained(const BertPreTrainedModel& model, const std::string& dir,
                     SaveDType dtype = SaveDType::F32,
                     const std::function<void(const std::string& tmp_dir)>& extra_files = nullptr);

// The weights a directory holds, by the names in the files (model.safetensors,
// the shards of model.safetensors.index.json, or pytorch_model.bin), as CPU
// tensors in their stored dtype. InputError when none is found.
std::map<std::string, torch::Tensor> read_checkpoint_weights(const std::string& dir,
                                                             std::string* source = nullptr);

// The one place where legacy names are mapped (docs/architecture.md): maps the
// names found in a checkpoint onto the model's parameter names. Handles
// LayerNorm gamma/beta, a missing or extra "bert." prefix, the tied decoder
// (cls.predictions.decoder.weight dropped when tied, cls.predictions.decoder.bias
// -> cls.predictions.bias) and HF's position_ids buffer. Returns
// model name -> checkpoint name; `unexpected` gets the names nothing maps onto.
std::map<std::string, std::string> map_checkpoint_keys(const std::vector<std::string>& checkpoint_keys,
                                                       const BertPreTrainedModel& model, LoadReport* report,
                                                       std::vector<std::string>* unexpected);

// Copy named weights into the model (converting dtype): shape mismatch is an
// InputError naming the key and both shapes. Fills report (missing/unexpected/renamed).
void load_weights(const BertPreTrainedModel& model, const std::map<std::string, torch::Tensor>& weights,
                  const std::string& where, LoadReport* report);

}  // namespace bertkit
