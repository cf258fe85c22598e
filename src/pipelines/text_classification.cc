// The text-classification pipeline.
#include "bertkit/pipelines/pipelines.h"

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "pipeline_util.h"

namespace bertkit::pipelines {

// Legend: T tokens, L labels, V vocab, H hidden.

ClassifyFunction parse_classify_function(const std::string& s) {
  if (s == "default") return ClassifyFunction::Default;
  if (s == "softmax") return ClassifyFunction::Softmax;
  if (s == "sigmoid") return ClassifyFunction::Sigmoid;
  if (s == "none") return ClassifyFunction::None;
  throw InputError("unknown function_to_apply '" + s + "': expected default, softmax, sigmoid or none");
}

std::vector<LabelScore> text_classification(const LoadedModel& m, const std::string& text,
                                            const std::optional<std::string>& pair, std::size_t top_k,
                                            ClassifyFunction fn) {
  torch::NoGradGuard ng;
  EncodeOptions eo;
  eo.max_length = max_len(m);
  eo.truncation = Truncation::LongestFirst;
  Encoding e = pair ? m.tokenizer->encode(text, std::string_view(*pair), eo) : m.tokenizer->encode(text, std::nullopt, eo);
  Batch batch = to_batch(e, m.device);
  if (!m.token_type_ids) batch.token_type_ids = torch::zeros_like(batch.token_type_ids);
  ModelOutput out = m.model->forward(batch);
  return classification_scores(m, to_vector(out.logits[0]), top_k, fn);
}

std::vector<LabelScore> classification_scores(const LoadedModel& m, const std::vector<float>& logits, std::size_t top_k,
                                              ClassifyFunction fn) {
  const BertConfig& c = m.model->config;
  if (fn == ClassifyFunction::Default) {
    if (c.problem_type == "multi_label_classification" || logits.size() == 1)
      fn = ClassifyFunction::Sigmoid;
    else if (c.problem_type == "regression")
      fn = ClassifyFunction::None;
    else
      fn = ClassifyFunction::Softmax;
  }
  std::vector<float> scores = logits;
  if (fn == ClassifyFunction::Softmax) scores = softmax(logits);
  if (fn == ClassifyFunction::Sigmoid)
    for (auto& v : scores) v = 1.0f / (1.0f + std::exp(-v));
  std::vector<LabelScore> res;
  for (std::size_t i = 0; i < scores.size(); ++i) res.push_back({label_of(c, static_cast<int64_t>(i)), scores[i]});
  std::stable_sort(res.begin(), res.end(), [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
  if (top_k > 0 && res.size() > top_k) res.resize(top_k);
  return res;
}

nlohmann::json to_json(const std::vector<LabelScore>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (auto& x : v) a.push_back({{"label", x.label}, {"score", x.score}});
  return a;
}

}  // namespace bertkit::pipelines
