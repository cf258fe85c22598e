// The question-answering pipeline (extractive spans).
#include "bertkit/pipelines/pipelines.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/utf8.h"
#include "pipeline_util.h"

namespace bertkit::pipelines {

// Legend: T tokens, L labels, V vocab, H hidden.

static std::string ascii_lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::vector<QaAnswer> question_answering(const LoadedModel& m, const std::string& question, const std::string& context,
                                         const QaOptions& o) {
  torch::NoGradGuard ng;
  BERTKIT_CHECK_INPUT(!question.empty(), "question-answering: the question is empty");
  BERTKIT_CHECK_INPUT(!context.empty(), "question-answering: the context is empty");
  BERTKIT_CHECK_INPUT(o.top_k >= 1, "question-answering: top_k must be >= 1");
  BERTKIT_CHECK_INPUT(o.max_answer_len >= 1, "question-answering: max_answer_len must be >= 1");
  const Tokenizer& tok = *m.tokenizer;
  // transformers: min(model_max_length, 384); also capped by the model's positions.
  std::size_t max_seq_len = o.max_seq_len > 0 ? static_cast<std::size_t>(o.max_seq_len)
                                               : std::min<std::size_t>(max_len(m), 384);
  std::size_t doc_stride = o.doc_stride >= 0 ? static_cast<std::size_t>(o.doc_stride) : std::min<std::size_t>(max_seq_len / 2, 128);
  BERTKIT_CHECK_INPUT(doc_stride <= max_seq_len, "question-answering: doc_stride (" + std::to_string(doc_stride) +
                                                     ") is larger than max_seq_len (" + std::to_string(max_seq_len) + ")");
  EncodeOptions eo;
  eo.max_length = max_seq_len;
  eo.truncation = Truncation::OnlySecond;
  eo.stride = doc_stride;
  eo.return_overflowing = true;
  eo.truncation_early_exit = o.hf_tokenizers_early_exit;
  Encoding first = tok.encode(question, std::string_view(context), eo);
  std::vector<Encoding> windows;
  std::vector<Encoding> rest = std::move(first.overflowing);
  first.overflowing.clear();
  windows.push_back(std::move(first));
  for (auto& w : rest) windows.push_back(std::move(w));

  const int32_t cls = tok.special_tokens().cls;
  double min_null_score = 1000000;
  std::vector<QaAnswer> answers;
  for (const Encoding& w : windows) {
    ModelOutput out = m.model->forward(to_batch(w, m.device));
    std::vector<float> start = to_vector(out.start_logits[0]), end = to_vector(out.end_logits[0]);
    const std::size_t T = w.ids.size();
    std::vector<uint8_t> desired(T);
    for (std::size_t i = 0; i < T; ++i) {
      bool p_mask = w.sequence_ids[i] != 1;
      if (w.ids[i] == cls) p_mask = false;
      bool att = w.attention_mask.empty() || w.attention_mask[i];
      desired[i] = !p_mask && att;
      if (!desired[i]) start[i] = end[i] = -10000.0f;
    }
    std::vector<float> ps = softmax(start), pe = softmax(end);
    if (o.handle_impossible_answer) min_null_score = std::min(min_null_score, double(ps[0] * pe[0]));
    ps[0] = pe[0] = 0.0f;
    // decode_spans: the top_k of start*end over 0 <= e - s < max_answer_len.
    struct Cand {
      float score;
      std::size_t flat;
    };
    std::vector<Cand> cands;
    cands.reserve(T * T);
    for (std::size_t s = 0; s < T; ++s)
      for (std::size_t e = 0; e < T; ++e) {
        float v = (e >= s && e - s <= o.max_answer_len - 1) ? ps[s] * pe[e] : 0.0f;
        cands.push_back({v, s * T + e});
      }
    std::size_t k = std::min(o.top_k, cands.size());
    std::partial_sort(cands.begin(), cands.begin() + k, cands.end(), [](const Cand& a, const Cand& b) {
      return a.score > b.score || (a.score == b.score && a.flat < b.flat);
    });
    cands.resize(k);
    for (auto& cd : cands) {
      std::size_t s = cd.flat / T, e = cd.flat % T;
      if (!desired[s] || !desired[e]) continue;
      std::size_t si = w.offsets[s].first, ei = w.offsets[e].second;
      if (o.align_to_words) {
        int32_t sw = w.word_ids[s], ew = w.word_ids[e];
        if (sw >= 0 && ew >= 0) {
          // word_to_chars(word, sequence_index=1) within this window
          std::size_t a = SIZE_MAX, b = 0;
          for (std::size_t i = 0; i < T; ++i) {
            if (w.sequence_ids[i] != 1) continue;
            if (w.word_ids[i] == sw) a = std::min(a, w.offsets[i].first);
            if (w.word_ids[i] == ew) b = std::max(b, w.offsets[i].second);
          }
          if (a != SIZE_MAX) si = a, ei = b;
        }
      }
      std::string target = utf8::substr(context, si, ei);
      auto it = std::find_if(answers.begin(), answers.end(),
                             [&](const QaAnswer& x) { return ascii_lower(x.answer) == ascii_lower(target); });
      if (it != answers.end())
        it->score += cd.score;
      else
        answers.push_back({cd.score, si, ei, target});
    }
  }
  if (o.handle_impossible_answer) answers.push_back({min_null_score, 0, 0, ""});
  std::stable_sort(answers.begin(), answers.end(), [](const QaAnswer& a, const QaAnswer& b) { return a.score > b.score; });
  if (answers.size() > o.top_k) answers.resize(o.top_k);
  return answers;
}

nlohmann::json to_json(const std::vector<QaAnswer>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (auto& x : v) a.push_back({{"score", x.score}, {"start", x.start}, {"end", x.end}, {"answer", x.answer}});
  if (a.size() == 1) return a[0];
  return a;
}

}  // namespace bertkit::pipelines
