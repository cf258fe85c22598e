#include "bertkit/models/checkpoint.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>

#include <torch/serialize.h>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/model_files.h"
#include "bertkit/models/heads.h"
#include "bertkit/nn/tensor_io.h"
#include "bertkit/nn/torch_bin.h"

namespace bertkit {

namespace fs = std::filesystem;

namespace {

std::string join_path(const std::string& dir, const std::string& name) { return (fs::path(dir) / name).string(); }

std::string shape_str(const torch::IntArrayRef& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// pytorch_model.bin: bertkit's reader of torch.save state dicts first (it
// handles what Python writes, OrderedDict metadata included); LibTorch's
// pickle_load for anything else it can read (e.g. torch::pickle_save output).
std::map<std::string, torch::Tensor> read_pytorch_bin(const std::string& path) {
  std::string first_error;
  try {
    return read_torch_state_dict(path);
  } catch (const InputError& e) {
    first_error = e.what();
  }
  std::string bytes = read_file(path);
  std::vector<char> data(bytes.begin(), bytes.end());
  c10::IValue value;
  try {
    value = torch::pickle_load(data);
  } catch (const std::exception& e) {
    value = c10::IValue();
  }
  if (!value.isGenericDict())
    throw InputError(first_error + ". Convert this pytorch_model.bin to safetensors with Python: "
                     "`transformers.AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True)`");
  std::map<std::string, torch::Tensor> out;
  for (const auto& kv : value.toGenericDict()) {
    if (!kv.key().isString() || !kv.value().isTensor())
      throw InputError(path + ": expected a state dict of name -> tensor");
    out[kv.key().toStringRef()] = kv.value().toTensor().contiguous();
  }
  return out;
}

void print_report(const LoadReport& r, const std::string& arch, const std::string& dir) {
  auto list = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s + "]";
  };
  if (!r.unexpected_keys.empty())
    std::cerr << "Some weights of the model checkpoint at " << dir << " were not used when initializing " << arch
              << ": " << list(r.unexpected_keys)
              << "\n- This IS expected if you are initializing " << arch
              << " from the checkpoint of a model trained on another task or with another architecture.\n";
  if (!r.missing_keys.empty())
    std::cerr << "Some weights of " << arch << " were not initialized from the model checkpoint at " << dir
              << " and are newly initialized: " << list(r.missing_keys)
              << "\nYou should probably TRAIN this model on a down-stream task to be able to use it for "
                 "predictions and inference.\n";
}

}  // namespace

SaveDType parse_save_dtype(const std::string& s) {
  if (s == "fp32" || s == "float32" || s == "f32") return SaveDType::F32;
  if (s == "fp16" || s == "float16" || s == "f16") return SaveDType::F16;
  if (s == "bf16" || s == "bfloat16") return SaveDType::BF16;
  throw InputError("unknown dtype '" + s + "' (expected fp32, fp16 or bf16)");
}

std::map<std::string, torch::Tensor> read_checkpoint_weights(const std::string& dir, std::string* source) {
  // model_file: no symbolic link may lead out of `dir` (a directory from elsewhere).
  const std::string single = model_file(dir, "model.safetensors", dir);
  const std::string index = model_file(dir, "model.safetensors.index.json", dir);
  const std::string bin = model_file(dir, "pytorch_model.bin", dir);
  if (file_exists(single)) {
    if (source) *source = single;
    return load_safetensors(single);
  }
  if (file_exists(index)) {
    if (source) *source = index;
    const nlohmann::json j = json::load_file(index);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw InputError(index + ": key 'weight_map' must be an object {tensor name: shard file}");
    std::map<std::string, std::set<std::string>> shards;  // file -> names it must hold
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string())
        throw InputError(index + ": weight_map['" + it.key() + "'] must be a file name");
      std::string file = it.value().get<std::string>();
      if (file.find('/') != std::string::npos || file.find("..") != std::string::npos)
        throw InputError(index + ": weight_map['" + it.key() + "'] = '" + file + "' must be a file in the same directory");
      shards[file].insert(it.key());
    }
    std::map<std::string, torch::Tensor> out;
    for (const auto& [file, names] : shards) {
      const std::string path = model_file(dir, file, index);
      if (!file_exists(path)) throw InputError(index + ": shard '" + file + "' does not exist in " + dir);
      SafetensorsReader reader(path);
      for (const auto& name : names) {
        if (!reader.contains(name))
          throw InputError(index + ": tensor '" + name + "' is mapped to " + file + " but that shard lacks it");
        out[name] = read_tensor(reader, name);
      }
    }
    return out;
  }
  if (file_exists(bin)) {
    if (source) *source = bin;
    return read_pytorch_bin(bin);
  }
  if (file_exists(join_path(dir, "pytorch_model.bin.index.json")))
    throw InputError(dir + ": sharded pytorch_model.bin checkpoints are not supported; convert to safetensors with "
                     "`transformers.AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True)`");
  throw InputError(dir + ": no weights found (expected model.safetensors, model.safetensors.index.json or "
                   "pytorch_model.bin)");
}

std::map<std::string, std::string> map_checkpoint_keys(const std::vector<std::string>& checkpoint_keys,
                                                       const BertPreTrainedModel& model, LoadReport* report,
                                                       std::vector<std::string>* unexpected) {
  std::set<std::string> expected;
  for (const auto& p : model->named_parameters()) expected.insert(p.key());
  const bool model_has_prefix = model->architecture() != Architecture::BertModel;
  bool file_has_prefix = false;
  for (const auto& k : checkpoint_keys)
    if (starts_with(k, "bert.")) file_has_prefix = true;
  const bool tied = model->config.tie_word_embeddings();
  const std::set<std::string> file_keys(checkpoint_keys.begin(), checkpoint_keys.end());

  std::map<std::string, std::string> mapping;  // model name -> checkpoint name
  for (const auto& original : checkpoint_keys) {
    std::string k = original;
    // Legacy TF-era LayerNorm names.
    if (ends_with(k, ".gamma") && k.find("LayerNorm") != std::string::npos)
      k = k.substr(0, k.size() - 6) + ".weight";
    else if (ends_with(k, ".beta") && k.find("LayerNorm") != std::string::npos)
      k = k.substr(0, k.size() - 5) + ".bias";
    // The "bert." prefix: add it for a head loading a base checkpoint, strip it
    // for a base model loading a head's checkpoint.
    if (model_has_prefix && !file_has_prefix && !starts_with(k, "cls.") && !starts_with(k, "classifier.") &&
        !starts_with(k, "qa_outputs."))
      k = "bert." + k;
    if (!model_has_prefix && starts_with(k, "bert.")) k = k.substr(5);
    // HF's position_ids buffer (persistent in old checkpoints): not a parameter.
    if (ends_with(k, "embeddings.position_ids")) continue;
    // The tied decoder: its weight is the word embeddings; its bias is `bias`.
    if (k == "cls.predictions.decoder.weight" && tied) continue;
    if (k == "cls.predictions.decoder.bias") {
      if (file_keys.count("cls.predictions.bias")) continue;
      k = "cls.predictions.bias";
    }
    if (!expected.count(k)) {
      if (unexpected) unexpected->push_back(original);
      continue;
    }
    if (mapping.count(k)) continue;  // two spellings of one weight: keep the first
    mapping[k] = original;
    if (k != original && report) report->renamed_keys.push_back(original + " -> " + k);
  }
  return mapping;
}

namespace {

// Copies each checkpoint tensor that maps onto a parameter into it (converting dtype), taking
// the tensors one at a time from `fetch(checkpoint name)`: shape mismatch is an InputError
// naming the key and both shapes. Fills the report (missing/unexpected/renamed).
void copy_weights(const BertPreTrainedModel& model, const std::vector<std::string>& keys,
                  const std::function<torch::Tensor(const std::string&)>& fetch, const std::string& where,
                  LoadReport& r) {
  std::vector<std::string> unexpected;
  auto mapping = map_checkpoint_keys(keys, model, &r, &unexpected);
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    auto it = mapping.find(p.key());
    if (it == mapping.end()) {
      r.missing_keys.push_back(p.key());
      continue;
    }
    const torch::Tensor src = fetch(it->second);
    if (src.sizes() != p.value().sizes())
      throw InputError(where + ": size mismatch for " + p.key() + ": the checkpoint has " + it->second + " of shape " +
                       shape_str(src.sizes()) + ", the model (config.json) expects " + shape_str(p.value().sizes()) +
                       (p.key().find("classifier") != std::string::npos || p.key().find("qa_outputs") != std::string::npos
                            ? " (set num_labels to match the checkpoint, or start a new head)"
                            : ""));
    if (!src.is_floating_point())
      throw InputError(where + ": " + it->second + " has a non-floating dtype; expected float weights");
    p.value().copy_(src);  // converts the dtype on the way
  }
  r.unexpected_keys.insert(r.unexpected_keys.end(), unexpected.begin(), unexpected.end());
}

// A tensor over the mapped bytes (read-only, valid while the reader lives) when they are
// aligned for its dtype, else a copy.
torch::Tensor mapped_tensor(const SafetensorsReader& reader, const std::string& name) {
  const auto& info = reader.info(name);
  const auto dtype = to_torch_dtype(info.dtype);
  const void* bytes = reader.data(name);
  if (info.nbytes() == 0 || reinterpret_cast<std::uintptr_t>(bytes) % c10::elementSize(dtype) != 0)
    return read_tensor(reader, name);
  return torch::from_blob(const_cast<void*>(bytes), info.shape, torch::TensorOptions().dtype(dtype));
}

// Loads a single model.safetensors straight from its mapping into the parameters: no copy
// of the whole checkpoint is made, so loading peaks at the model plus the file's mapped
// pages (read_checkpoint_weights + load_weights also held a full copy: about 1.4 GB instead
// of 0.9 GB for BERT-base).
void load_mapped_safetensors(const BertPreTrainedModel& model, const std::string& path, LoadReport& r) {
  SafetensorsReader reader(path);
  std::vector<std::string> names = reader.names();
  std::sort(names.begin(), names.end());  // the order load_weights sees (a std::map's): the first of two spellings wins
  copy_weights(model, names, [&](const std::string& name) { return mapped_tensor(reader, name); }, path, r);
}

}  // namespace

void load_weights(const BertPreTrainedModel& model, const std::map<std::string, torch::Tensor>& weights,
                  const std::string& where, LoadReport* report) {
  std::vector<std::string> keys;
  for (const auto& kv : weights) keys.push_back(kv.first);
  LoadReport local;
  copy_weights(model, keys, [&](const std::string& name) { return weights.at(name); }, where, report ? *report : local);
}

BertPreTrainedModel load_pretrained(const std::string& dir, const LoadOptions& options, LoadReport* report) {
  if (!dir_exists(dir)) throw InputError(dir + ": not a directory (expected an HF model directory with config.json)");
  const std::string config_path = model_file(dir, "config.json", dir);
  if (!file_exists(config_path)) throw InputError(dir + ": no config.json (not an HF model directory)");
  BertConfig config = BertConfig::load(config_path);
  if (options.num_labels) config.set_num_labels(*options.num_labels);
  Architecture arch = Architecture::BertModel;
  if (options.architecture)
    arch = *options.architecture;
  else if (!config.architectures.empty()) {
    try {
      arch = parse_architecture(config.architectures[0]);
    } catch (const InputError& e) {
      throw InputError(config_path + ": key 'architectures': " + e.what());
    }
  }
  auto model = create_model(arch, config);
  LoadReport local;
  LoadReport& r = report ? *report : local;
  const std::string single = join_path(dir, "model.safetensors");
  if (file_exists(single)) {
    load_mapped_safetensors(model, single, r);
  } else {
    std::string source;
    load_weights(model, read_checkpoint_weights(dir, &source), source, &r);
  }
  if (options.verbose) print_report(r, architecture_name(arch), dir);
  model->to(options.device);
  return model;
}

void save_pretrained(const BertPreTrainedModel& model, const std::string& dir, SaveDType dtype,
                     const std::function<void(const std::string& tmp_dir)>& extra_files) {
  torch::Dtype td = dtype == SaveDType::F16 ? torch::kFloat16 : dtype == SaveDType::BF16 ? torch::kBFloat16 : torch::kFloat32;
  const char* dtype_name = dtype == SaveDType::F16 ? "float16" : dtype == SaveDType::BF16 ? "bfloat16" : "float32";
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : model->named_parameters()) tensors[p.key()] = p.value().detach().to(torch::kCPU, td).contiguous();
  BertConfig config = model->config;
  config.architectures = {architecture_name(model->architecture())};
  config.extra["dtype"] = dtype_name;
  if (config.extra.contains("torch_dtype")) config.extra["torch_dtype"] = dtype_name;
  write_dir_atomic(dir, [&](const std::string& tmp) {
    save_safetensors(join_path(tmp, "model.safetensors"), tensors, {{"format", "pt"}});
    config.save(join_path(tmp, "config.json"));
    if (extra_files) extra_files(tmp);
  });
}

}  // namespace bertkit
