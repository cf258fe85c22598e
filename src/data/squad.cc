#include "bertkit/data/squad.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <nlohmann/json.hpp>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/utf8.h"

namespace bertkit {

std::vector<SquadExample> read_squad(const std::string& path) {
  const nlohmann::json j = json::load_file(path);
  auto need = [&](const nlohmann::json& o, const char* key, const std::string& at) -> const nlohmann::json& {
    if (!o.is_object() || !o.contains(key))
      throw InputError(path + ": " + at + " has no key '" + key + "' (expected SQuAD JSON: data[].paragraphs[].qas[])");
    return o.at(key);
  };
  std::vector<SquadExample> out;
  const auto& data = need(j, "data", "the top level");
  if (!data.is_array()) throw InputError(path + ": 'data' must be an array");
  for (std::size_t a = 0; a < data.size(); ++a) {
    const std::string at_a = "data[" + std::to_string(a) + "]";
    std::string title = data[a].value("title", "");
    const auto& paras = need(data[a], "paragraphs", at_a);
    for (std::size_t p = 0; p < paras.size(); ++p) {
      const std::string at_p = at_a + ".paragraphs[" + std::to_string(p) + "]";
      const auto& ctx = need(paras[p], "context", at_p);
      if (!ctx.is_string()) throw InputError(path + ": " + at_p + ".context must be a string");
      const std::string context = ctx.get<std::string>();
      const auto& qas = need(paras[p], "qas", at_p);
      for (std::size_t q = 0; q < qas.size(); ++q) {
        const std::string at_q = at_p + ".qas[" + std::to_string(q) + "]";
        SquadExample ex;
        ex.title = title;
        ex.context = context;
        const auto& idv = need(qas[q], "id", at_q);
        ex.id = idv.is_string() ? idv.get<std::string>() : idv.dump();
        ex.question = need(qas[q], "question", at_q).get<std::string>();
        ex.is_impossible = qas[q].value("is_impossible", false);
        if (qas[q].contains("answers")) {
          for (const auto& an : qas[q]["answers"]) {
            if (!an.contains("text") || !an.contains("answer_start"))
              throw InputError(path + ": " + at_q + ".answers[] needs 'text' and 'answer_start'");
            SquadAnswer s;
            s.text = an["text"].get<std::string>();
            s.start = an["answer_start"].get<std::size_t>();
            ex.answers.push_back(std::move(s));
          }
        }
        out.push_back(std::move(ex));
      }
    }
  }
  return out;
}

std::vector<QaFeature> make_qa_features(const Tokenizer& tok, const std::string& question_in,
                                        const std::string& context, const std::optional<SquadAnswer>& answer,
                                        const QaFeatureOptions& o, std::size_t example_index) {
  // HF run_qa strips the question's leading whitespace (it wastes context room).
  std::string question = question_in.substr(std::min(question_in.size(), question_in.find_first_not_of(" \t\n\r")));
  EncodeOptions qo;
  qo.add_special_tokens = false;
  if (o.max_query_length > 0) {
    Encoding qe = tok.encode(question, std::nullopt, qo);
    if (qe.ids.size() > o.max_query_length) question = question.substr(0, qe.byte_offsets[o.max_query_length - 1].second);
  }
  EncodeOptions eo;
  eo.max_length = o.max_seq_length;
  eo.truncation = Truncation::OnlySecond;
  eo.stride = o.doc_stride;
  eo.return_overflowing = true;
  Encoding enc = tok.encode(question, std::string_view(context), eo);
  std::vector<Encoding> windows;
  std::vector<Encoding> rest = std::move(enc.overflowing);
  enc.overflowing.clear();
  windows.push_back(std::move(enc));
  for (auto& w : rest) windows.push_back(std::move(w));

  std::size_t ans_start = 0, ans_end = 0;
  if (answer) {
    ans_start = answer->start;
    ans_end = ans_start + utf8::count(answer->text);
  }
  std::vector<QaFeature> out;
  for (auto& w : windows) {
    QaFeature f;
    f.example = example_index;
    f.input_ids = w.ids;
    f.type_ids = w.type_ids;
    f.sequence_ids = w.sequence_ids;
    f.word_ids = w.word_ids;
    f.offsets.resize(w.ids.size(), Offset{0, 0});
    for (std::size_t i = 0; i < w.ids.size(); ++i)
      if (w.sequence_ids[i] == 1) f.offsets[i] = w.offsets[i];
    if (answer) {
      // The window's context token range.
      int64_t ts = 0, te = static_cast<int64_t>(w.ids.size()) - 1;
      while (ts < static_cast<int64_t>(w.ids.size()) && w.sequence_ids[ts] != 1) ++ts;
      while (te >= 0 && w.sequence_ids[te] != 1) --te;
      if (ts <= te && f.offsets[ts].first <= ans_start && f.offsets[te].second >= ans_end) {
        while (ts < static_cast<int64_t>(w.ids.size()) && w.sequence_ids[ts] == 1 && f.offsets[ts].first <= ans_start) ++ts;
        f.start_position = ts - 1;
        while (te >= 0 && w.sequence_ids[te] == 1 && f.offsets[te].second >= ans_end) --te;
        f.end_position = te + 1;
        f.has_answer = true;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

QaPrediction postprocess_qa(const std::string& context, const std::vector<const QaFeature*>& features,
                            const std::vector<std::vector<float>>& start_logits,
                            const std::vector<std::vector<float>>& end_logits, const QaPostprocessOptions& o) {
  struct Prelim {
    std::size_t s, e;
    double score, start_logit, end_logit;
    bool null;
  };
  std::vector<Prelim> prelim;
  std::optional<Prelim> min_null;
  auto top_indices = [&](const std::vector<float>& v) {
    std::vector<std::size_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return v[a] > v[b]; });
    if (idx.size() > o.n_best_size) idx.resize(o.n_best_size);
    return idx;
  };
  for (std::size_t k = 0; k < features.size(); ++k) {
    const auto& f = *features[k];
    const auto& sl = start_logits[k];
    const auto& el = end_logits[k];
    double null_score = double(sl[0]) + double(el[0]);
    if (!min_null || min_null->score > null_score) min_null = Prelim{0, 0, null_score, sl[0], el[0], true};
    const std::size_t n = f.offsets.size();
    for (std::size_t si : top_indices(sl)) {
      for (std::size_t ei : top_indices(el)) {
        if (si >= n || ei >= n || f.sequence_ids[si] != 1 || f.sequence_ids[ei] != 1) continue;
        if (ei < si || ei - si + 1 > o.max_answer_length) continue;
        prelim.push_back(Prelim{f.offsets[si].first, f.offsets[ei].second, double(sl[si]) + double(el[ei]), sl[si], el[ei], false});
      }
    }
  }
  double null_score = 0;
  if (o.version_2_with_negative && min_null) {
    prelim.push_back(*min_null);
    null_score = min_null->score;
  }
  std::stable_sort(prelim.begin(), prelim.end(), [](const Prelim& a, const Prelim& b) { return a.score > b.score; });
  if (prelim.size() > o.n_best_size) prelim.resize(o.n_best_size);
  if (o.version_2_with_negative && min_null &&
      std::none_of(prelim.begin(), prelim.end(), [](const Prelim& p) { return p.s == 0 && p.e == 0; }))
    prelim.push_back(*min_null);

  QaPrediction out;
  for (auto& p : prelim) {
    QaCandidate c;
    c.start = p.s;
    c.end = p.e;
    c.text = utf8::substr(context, p.s, p.e);
    c.score = p.score;
    c.is_null = p.null;
    out.nbest.push_back(std::move(c));
  }
  if (out.nbest.empty() || (out.nbest.size() == 1 && out.nbest[0].text.empty())) {
    QaCandidate c;
    c.text = "empty";
    out.nbest.insert(out.nbest.begin(), c);
  }
  double mx = -INFINITY;
  for (auto& c : out.nbest) mx = std::max(mx, c.score);
  double sum = 0;
  for (auto& c : out.nbest) sum += (c.probability = std::exp(c.score - mx));
  for (auto& c : out.nbest) c.probability /= sum;
  if (!o.version_2_with_negative) {
    out.text = out.nbest[0].text;
    out.start = out.nbest[0].start;
    out.end = out.nbest[0].end;
    return out;
  }
  std::size_t i = 0;
  while (i < out.nbest.size() && out.nbest[i].text.empty()) ++i;
  if (i == out.nbest.size()) return out;  // only the null answer
  const auto& best = out.nbest[i];
  // start_logit + end_logit of the best non-null span is its score.
  out.null_score_diff = null_score - best.score;
  if (out.null_score_diff > o.null_score_diff_threshold) return out;
  out.text = best.text;
  out.start = best.start;
  out.end = best.end;
  return out;
}

}  // namespace bertkit
