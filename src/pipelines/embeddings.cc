// Sentence embeddings (sentence-transformers pooling) and cosine similarity.
#include "bertkit/pipelines/pipelines.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/core/model_files.h"
#include "bertkit/hub/resolve.h"
#include "pipeline_util.h"

namespace bertkit::pipelines {

// Legend: T tokens, L labels, V vocab, H hidden.

Pooling parse_pooling(const std::string& s) {
  if (s == "cls" || s == "cls_token") return Pooling::Cls;
  if (s == "mean" || s == "mean_tokens") return Pooling::Mean;
  if (s == "max" || s == "max_tokens") return Pooling::Max;
  if (s == "mean_sqrt_len_tokens" || s == "mean_sqrt_len") return Pooling::MeanSqrtLen;
  throw InputError("unknown pooling '" + s + "': expected cls, mean, max or mean_sqrt_len_tokens");
}

EmbeddingModel load_embedding_model(const std::string& name_or_dir, const std::optional<EmbeddingOptions>& overrides,
                                    torch::Device device) {
  const std::string dir = hub::resolve_model_dir(name_or_dir);
  EmbeddingModel em;
  // model_file: nothing a directory from elsewhere holds (a "path" in
  // modules.json, a symbolic link) may make us read outside it. The module
  // files are checked against `dir` itself so that a Hub cache snapshot's
  // links into blobs/ are accepted in module folders too.
  const std::string modules_path = model_file(dir, "modules.json", dir);
  std::string transformer_dir = dir;
  EmbeddingOptions opt;
  if (file_exists(modules_path)) {
    em.sentence_transformers = true;
    opt.pooling.clear();
    auto modules = json::load_file(modules_path);
    if (!modules.is_array()) throw InputError(modules_path + ": expected an array of modules");
    bool has_pooling = false;
    for (const auto& mod : modules) {
      std::string type = mod.value("type", "");
      std::string path = mod.value("path", "");
      std::string mdir = path.empty() ? dir : model_file(dir, path, modules_path);  // no way out of dir
      const auto module_file = [&](const std::string& name) {
        return model_file(dir, path.empty() ? name : path + "/" + name, modules_path);
      };
      if (type.find("Transformer") != std::string::npos) {
        transformer_dir = mdir;
        std::string sb = module_file("sentence_bert_config.json");
        if (file_exists(sb)) {
          auto j = json::load_file(sb);
          if (j.contains("max_seq_length") && j["max_seq_length"].is_number_integer())
            opt.max_seq_length = j["max_seq_length"].get<std::size_t>();
        }
      } else if (type.find("Pooling") != std::string::npos) {
        has_pooling = true;
        auto j = json::load_file(module_file("config.json"));
        if (j.contains("pooling_mode")) {  // sentence-transformers >= 5: "mean" or a list
          const auto& pm = j["pooling_mode"];
          if (pm.is_string())
            opt.pooling.push_back(parse_pooling(pm.get<std::string>()));
          else
            for (const auto& x : pm) opt.pooling.push_back(parse_pooling(x.get<std::string>()));
        } else {  // the boolean flags, concatenated in sentence-transformers' order
          if (j.value("pooling_mode_cls_token", false)) opt.pooling.push_back(Pooling::Cls);
          if (j.value("pooling_mode_max_tokens", false)) opt.pooling.push_back(Pooling::Max);
          if (j.value("pooling_mode_mean_tokens", false)) opt.pooling.push_back(Pooling::Mean);
          if (j.value("pooling_mode_mean_sqrt_len_tokens", false)) opt.pooling.push_back(Pooling::MeanSqrtLen);
          for (const char* k : {"pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
            if (j.value(k, false))
              throw InputError(mdir + "/config.json: " + std::string(k) + " is not supported (cls, max, mean, mean_sqrt_len_tokens are)");
        }
        if (opt.pooling.empty()) throw InputError(mdir + "/config.json: no pooling mode set");
      } else if (type.find("Normalize") != std::string::npos) {
        opt.normalize = true;
      } else {
        throw InputError(modules_path + ": module type '" + type +
                         "' is not supported (Transformer, Pooling and Normalize are)");
      }
    }
    if (!has_pooling) opt.pooling.push_back(Pooling::Mean);
  }
  if (overrides) {
    if (!overrides->pooling.empty()) opt.pooling = overrides->pooling;
    if (overrides->normalize) opt.normalize = true;  // a Normalize module stays on
    if (overrides->max_seq_length) opt.max_seq_length = overrides->max_seq_length;
  }
  em.base = load_model(transformer_dir, Architecture::BertModel, device);
  if (!file_exists(transformer_dir + "/tokenizer.json") && !file_exists(transformer_dir + "/vocab.txt") && transformer_dir != dir)
    em.base.tokenizer = std::shared_ptr<Tokenizer>(load_tokenizer(dir).release());
  if (opt.max_seq_length == 0) opt.max_seq_length = max_len(em.base);
  em.options = opt;
  return em;
}

torch::Tensor embed(const EmbeddingModel& m, const std::vector<std::string>& texts, std::size_t batch_size) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> rows;
  EncodeOptions eo;
  eo.max_length = m.options.max_seq_length;
  eo.truncation = Truncation::LongestFirst;
  for (const auto& t : texts) {
    Encoding e = m.base.tokenizer->encode(t, std::nullopt, eo);
    Batch b = to_batch(e, m.base.device);
    ModelOutput out = m.base.model->forward(b);
    auto tok = out.last_hidden_state.to(torch::kFloat);          // [1, T, H]
    auto mask = b.attention_mask.unsqueeze(-1).to(torch::kFloat);  // [1, T, 1]
    std::vector<torch::Tensor> parts;
    for (Pooling p : m.options.pooling) {
      switch (p) {
        case Pooling::Cls: parts.push_back(tok.select(1, 0)); break;
        case Pooling::Max: parts.push_back(std::get<0>(tok.masked_fill(mask == 0, -1e9).max(1))); break;
        case Pooling::Mean:
          parts.push_back((tok * mask).sum(1) / torch::clamp(mask.sum(1), 1e-9));
          break;
        case Pooling::MeanSqrtLen:
          parts.push_back((tok * mask).sum(1) / torch::sqrt(torch::clamp(mask.sum(1), 1e-9)));
          break;
      }
    }
    auto v = torch::cat(parts, -1);  // [1, D]
    if (m.options.normalize) v = torch::nn::functional::normalize(v, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
    rows.push_back(v.to(torch::kCPU));
  }
  (void)batch_size;
  if (rows.empty()) return torch::zeros({0, 0});
  return torch::cat(rows, 0);
}

torch::Tensor cosine_similarity_matrix(const torch::Tensor& a, const torch::Tensor& b) {
  namespace F = torch::nn::functional;
  auto an = F::normalize(a, F::NormalizeFuncOptions().p(2).dim(1));
  auto bn = F::normalize(b, F::NormalizeFuncOptions().p(2).dim(1));
  return torch::mm(an, bn.transpose(0, 1));
}

}  // namespace bertkit::pipelines
