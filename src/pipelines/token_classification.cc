// The token-classification (NER) pipeline with HF's aggregation strategies.
#include "bertkit/pipelines/pipelines.h"

#include <algorithm>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/utf8.h"
#include "pipeline_util.h"

namespace bertkit::pipelines {

// Legend: T tokens, L labels, V vocab, H hidden.

Aggregation parse_aggregation(const std::string& s) {
  if (s == "none") return Aggregation::None;
  if (s == "simple") return Aggregation::Simple;
  if (s == "first") return Aggregation::First;
  if (s == "average") return Aggregation::Average;
  if (s == "max") return Aggregation::Max;
  throw InputError("unknown aggregation '" + s + "': expected none, simple, first, average or max");
}

namespace {
struct PreEntity {
  std::string word;
  std::vector<float> scores;
  std::size_t start, end;
  int64_t index;
  bool is_subword;
};
struct Ent {
  std::string entity;
  double score;
  int64_t index;
  std::string word;
  std::size_t start, end;
  std::vector<float> scores;
};
int64_t argmax(const std::vector<float>& v) {
  return std::max_element(v.begin(), v.end()) - v.begin();  // first maximum, as numpy
}
std::pair<char, std::string> get_tag(const std::string& name) {
  if (name.rfind("B-", 0) == 0) return {'B', name.substr(2)};
  if (name.rfind("I-", 0) == 0) return {'I', name.substr(2)};
  return {'I', name};
}
}  // namespace

std::vector<TokenEntity> token_classification(const LoadedModel& m, const std::string& text, Aggregation agg,
                                              const std::vector<std::string>& ignore_labels) {
  torch::NoGradGuard ng;
  EncodeOptions eo;
  Encoding e = m.tokenizer->encode(text, std::nullopt, eo);
  ModelOutput out = m.model->forward(to_batch(e, m.device));
  return token_entities(m, text, e, out.logits[0].to(torch::kCPU).to(torch::kFloat).contiguous(), agg, ignore_labels);
}

std::vector<TokenEntity> token_entities(const LoadedModel& m, const std::string& text, const Encoding& e,
                                        const torch::Tensor& logits, Aggregation agg,
                                        const std::vector<std::string>& ignore_labels) {
  const Tokenizer& tok = *m.tokenizer;
  const int64_t L = logits.size(1);
  const BertConfig& c = m.model->config;
  const bool wordpiece = tok.token_to_id("##s") >= 0 || tok.token_to_id("##a") >= 0;
  const int32_t unk = tok.special_tokens().unk;
  std::vector<PreEntity> pre;
  for (std::size_t i = 0; i < e.ids.size(); ++i) {
    if (!e.special_tokens_mask.empty() && e.special_tokens_mask[i]) continue;
    std::vector<float> row(logits[i].data_ptr<float>(), logits[i].data_ptr<float>() + L);
    PreEntity p;
    p.word = tok.id_to_token(e.ids[i]);
    p.scores = softmax(row);
    p.start = e.offsets[i].first;
    p.end = e.offsets[i].second;
    p.index = static_cast<int64_t>(i);
    std::string word_ref = utf8::substr(text, p.start, p.end);
    if (wordpiece) {
      p.is_subword = utf8::count(p.word) != utf8::count(word_ref);
    } else {
      // transformers' fallback heuristic: no space around the token start.
      std::string around = p.start > 0 ? utf8::substr(text, p.start - 1, p.start + 1) : "";
      p.is_subword = p.start > 0 && around.find(' ') == std::string::npos;
    }
    if (e.ids[i] == unk) {
      p.word = word_ref;
      p.is_subword = false;
    }
    pre.push_back(std::move(p));
  }
  std::vector<Ent> ents;
  if (agg == Aggregation::None || agg == Aggregation::Simple) {
    for (auto& p : pre) {
      int64_t k = argmax(p.scores);
      ents.push_back({label_of(c, k), p.scores[k], p.index, p.word, p.start, p.end, p.scores});
    }
  } else {
    auto aggregate_word = [&](const std::vector<const PreEntity*>& g) {
      std::vector<std::string> toks;
      for (auto* p : g) toks.push_back(p->word);
      std::vector<float> scores;
      if (agg == Aggregation::First) {
        scores = g[0]->scores;
      } else if (agg == Aggregation::Max) {
        const PreEntity* best = g[0];
        float bm = *std::max_element(best->scores.begin(), best->scores.end());
        for (auto* p : g) {
          float mx = *std::max_element(p->scores.begin(), p->scores.end());
          if (mx > bm) best = p, bm = mx;
        }
        scores = best->scores;
      } else {
        scores.assign(L, 0.0f);
        for (auto* p : g)
          for (int64_t k = 0; k < L; ++k) scores[k] += p->scores[k];
        for (auto& v : scores) v /= static_cast<float>(g.size());
      }
      int64_t k = argmax(scores);
      return Ent{label_of(c, k), scores[k], -1, decode_tokens(toks), g.front()->start, g.back()->end, scores};
    };
    std::vector<const PreEntity*> group;
    for (auto& p : pre) {
      if (group.empty() || p.is_subword) {
        group.push_back(&p);
      } else {
        ents.push_back(aggregate_word(group));
        group = {&p};
      }
    }
    if (!group.empty()) ents.push_back(aggregate_word(group));
  }
  std::vector<TokenEntity> res;
  auto ignored = [&](const std::string& l) {
    return std::find(ignore_labels.begin(), ignore_labels.end(), l) != ignore_labels.end();
  };
  if (agg == Aggregation::None) {
    for (auto& x : ents)
      if (!ignored(x.entity)) res.push_back({x.entity, x.score, x.index, x.word, x.start, x.end});
    return res;
  }
  // group_entities
  std::vector<std::vector<const Ent*>> groups;
  for (auto& x : ents) {
    if (groups.empty()) {
      groups.push_back({&x});
      continue;
    }
    auto [bi, tag] = get_tag(x.entity);
    auto [lbi, ltag] = get_tag(groups.back().back()->entity);
    if (tag == ltag && bi != 'B')
      groups.back().push_back(&x);
    else
      groups.push_back({&x});
  }
  for (auto& g : groups) {
    std::string name = g[0]->entity;
    auto dash = name.find('-');
    std::string group_name = dash == std::string::npos ? name : name.substr(dash + 1);
    double sum = 0;
    std::vector<std::string> toks;
    for (auto* x : g) sum += x->score, toks.push_back(x->word);
    if (ignored(group_name)) continue;
    res.push_back({group_name, sum / g.size(), -1, decode_tokens(toks), g.front()->start, g.back()->end});
  }
  return res;
}

nlohmann::json to_json(const std::vector<TokenEntity>& v, Aggregation agg) {
  nlohmann::json a = nlohmann::json::array();
  for (auto& x : v) {
    nlohmann::json o;
    if (agg == Aggregation::None) {
      o["entity"] = x.entity;
      o["score"] = x.score;
      o["index"] = x.index;
    } else {
      o["entity_group"] = x.entity;
      o["score"] = x.score;
    }
    o["word"] = x.word;
    o["start"] = x.start;
    o["end"] = x.end;
    a.push_back(o);
  }
  return a;
}

}  // namespace bertkit::pipelines
