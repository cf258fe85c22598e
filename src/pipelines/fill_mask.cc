// The fill-mask pipeline.
#include "bertkit/pipelines/pipelines.h"

#include <algorithm>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "pipeline_util.h"

namespace bertkit::pipelines {

// Legend: T tokens, L labels, V vocab, H hidden.

std::vector<std::vector<MaskFill>> fill_mask(const LoadedModel& m, const std::string& text, std::size_t top_k) {
  torch::NoGradGuard ng;
  const Tokenizer& tok = *m.tokenizer;
  const auto& sp = tok.special_tokens();
  EncodeOptions eo;
  eo.max_length = max_len(m);
  eo.truncation = Truncation::LongestFirst;
  Encoding e = tok.encode(text, std::nullopt, eo);
  std::vector<std::size_t> masks;
  for (std::size_t i = 0; i < e.ids.size(); ++i)
    if (e.ids[i] == sp.mask) masks.push_back(i);
  BERTKIT_CHECK_INPUT(!masks.empty(), "fill-mask: no " + sp.mask_token + " token in \"" + text + "\"");
  ModelOutput out = m.model->forward(to_batch(e, m.device));
  auto logits = out.logits[0].to(torch::kCPU).to(torch::kFloat);  // [T, V]
  const bool single = masks.size() == 1;
  std::vector<std::vector<MaskFill>> res;
  for (std::size_t mi : masks) {
    auto probs = torch::softmax(logits[static_cast<int64_t>(mi)], -1);
    auto [vals, idx] = probs.topk(static_cast<int64_t>(std::min<std::size_t>(top_k, probs.size(0))));
    std::vector<MaskFill> row;
    for (int64_t k = 0; k < vals.size(0); ++k) {
      MaskFill f;
      f.score = vals[k].item<float>();
      f.token = idx[k].item<int64_t>();
      std::vector<int32_t> ids;
      for (std::size_t i = 0; i < e.ids.size(); ++i) {
        int32_t id = i == mi ? static_cast<int32_t>(f.token) : e.ids[i];
        if (id != sp.pad) ids.push_back(id);
      }
      f.sequence = decode_ids(tok, ids, single);
      f.token_str = decode_ids(tok, {static_cast<int32_t>(f.token)}, false);
      row.push_back(std::move(f));
    }
    res.push_back(std::move(row));
  }
  return res;
}

nlohmann::json to_json(const std::vector<std::vector<MaskFill>>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (auto& row : v) {
    nlohmann::json r = nlohmann::json::array();
    for (auto& x : row)
      r.push_back({{"score", x.score}, {"token", x.token}, {"token_str", x.token_str}, {"sequence", x.sequence}});
    a.push_back(r);
  }
  if (a.size() == 1) return a[0];
  return a;
}

}  // namespace bertkit::pipelines
