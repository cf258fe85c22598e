#include "finetune_util.h"

#include "bertkit/core/fs.h"

namespace bertkit {

// [B, T] inputs from id sequences, right-padded.
Batch pad_inputs(const std::vector<const std::vector<int32_t>*>& ids,
                 const std::vector<const std::vector<int32_t>*>& types, int32_t pad_id) {
  std::size_t T = 0;
  for (auto* v : ids) T = std::max(T, v->size());
  const int64_t B = static_cast<int64_t>(ids.size());
  auto input = torch::full({B, static_cast<int64_t>(T)}, static_cast<int64_t>(pad_id), torch::kLong);
  auto tt = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
  auto am = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
  auto pi = input.accessor<int64_t, 2>();
  auto pt = tt.accessor<int64_t, 2>();
  auto pa = am.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    for (std::size_t t = 0; t < ids[b]->size(); ++t) {
      pi[b][t] = (*ids[b])[t];
      pa[b][t] = 1;
      if (b < static_cast<int64_t>(types.size()) && types[b] && t < types[b]->size()) pt[b][t] = (*types[b])[t];
    }
  }
  Batch batch;
  batch.input_ids = input;
  batch.token_type_ids = tt;
  batch.attention_mask = am;
  return batch;
}

std::vector<float> row_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

void write_jsonl(const std::string& path, const std::vector<nlohmann::json>& rows) {
  if (path.empty()) return;
  std::string out;
  for (auto& r : rows) out += r.dump() + "\n";
  write_file_atomic(path, out);
}

// Label names of a model config when they are real names (not LABEL_i defaults).
std::vector<std::string> config_labels(const BertConfig* c) {
  if (!c || c->id2label.empty()) return {};
  std::vector<std::string> out;
  for (int64_t i = 0; i < static_cast<int64_t>(c->id2label.size()); ++i) {
    auto it = c->id2label.find(i);
    if (it == c->id2label.end()) return {};
    out.push_back(it->second);
  }
  bool defaults = true;
  for (std::size_t i = 0; i < out.size(); ++i) defaults = defaults && out[i] == "LABEL_" + std::to_string(i);
  return defaults ? std::vector<std::string>{} : out;
}

void set_labels(BertConfig& config, const std::vector<std::string>& labels) {
  config.num_labels = static_cast<int64_t>(labels.size());
  config.id2label.clear();
  config.label2id.clear();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    config.id2label[static_cast<int64_t>(i)] = labels[i];
    config.label2id[labels[i]] = static_cast<int64_t>(i);
  }
}

}  // namespace bertkit
