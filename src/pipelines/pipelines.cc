#include "bertkit/pipelines/pipelines.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/model_files.h"
#include "bertkit/hub/resolve.h"
#include "bertkit/models/checkpoint.h"

namespace bertkit::pipelines {

// Legend: T tokens, L labels, V vocab, H hidden.

LoadedModel load_model(const std::string& name_or_dir, std::optional<Architecture> arch, torch::Device device) {
  const std::string dir = hub::resolve_model_dir(name_or_dir);
  LoadedModel m;
  LoadOptions lo;
  lo.architecture = arch;
  lo.device = device;
  lo.verbose = false;
  m.model = load_pretrained(dir, lo);
  m.model->eval();
  m.tokenizer = std::shared_ptr<Tokenizer>(load_tokenizer(dir).release());
  m.device = device;
  m.dir = dir;
  const std::string tc = dir + "/tokenizer_config.json";
  if (file_exists(tc)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(tc));
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(tc + ": not valid JSON (" + e.what() + ")");
    }
    if (j.contains("model_input_names") && j["model_input_names"].is_array()) {
      m.token_type_ids = false;
      for (auto& n : j["model_input_names"]) m.token_type_ids = m.token_type_ids || n == "token_type_ids";
    } else {
      std::string cls = j.value("tokenizer_class", "");
      if (cls == "TokenizersBackend" || cls == "PreTrainedTokenizerFast") m.token_type_ids = false;
    }
  }
  return m;
}

static std::string cleanup(std::string s) {
  static const std::pair<const char*, const char*> rules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (auto& [from, to] : rules) {
    std::string f(from), t(to);
    std::size_t p = 0;
    while ((p = s.find(f, p)) != std::string::npos) {
      s.replace(p, f.size(), t);
      p += t.size();
    }
  }
  return s;
}

std::string decode_tokens(const std::vector<std::string>& tokens) {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::string t = tokens[i];
    if (i != 0) {
      if (t.rfind("##", 0) == 0)
        t = t.substr(2);
      else
        t = " " + t;
    }
    out += cleanup(t);
  }
  return out;
}

static bool is_special_id(const Tokenizer& tok, int32_t id) {
  const auto& sp = tok.special_tokens();
  return id == sp.pad || id == sp.unk || id == sp.cls || id == sp.sep || id == sp.mask;
}

std::string decode_ids(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special_tokens) {
  std::vector<std::string> tokens;
  for (int32_t id : ids) {
    if (skip_special_tokens && is_special_id(tok, id)) continue;
    tokens.push_back(tok.id_to_token(id));
  }
  return decode_tokens(tokens);
}

// One encoding -> model inputs [1, T].
static Batch to_batch(const Encoding& e, torch::Device device) {
  auto ids = torch::tensor(std::vector<int64_t>(e.ids.begin(), e.ids.end()), torch::kLong).unsqueeze(0);
  std::vector<int64_t> tt(e.type_ids.begin(), e.type_ids.end());
  if (tt.empty()) tt.assign(e.ids.size(), 0);
  std::vector<int64_t> am(e.attention_mask.begin(), e.attention_mask.end());
  if (am.empty()) am.assign(e.ids.size(), 1);
  Batch b;
  b.input_ids = ids.to(device);
  b.token_type_ids = torch::tensor(tt, torch::kLong).unsqueeze(0).to(device);
  b.attention_mask = torch::tensor(am, torch::kLong).unsqueeze(0).to(device);
  return b;
}

static std::size_t max_len(const LoadedModel& m) {
  std::size_t cap = static_cast<std::size_t>(m.model->config.max_position_embeddings);
  std::size_t t = m.tokenizer->model_max_length();
  return t > 0 ? std::min(t, cap) : cap;
}

static std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// numpy-style softmax over a row, in float32.
static std::vector<float> softmax(const std::vector<float>& x) {
  float mx = *std::max_element(x.begin(), x.end());
  std::vector<float> e(x.size());
  float sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += (e[i] = std::exp(x[i] - mx));
  for (auto& v : e) v /= sum;
  return e;
}

static std::string label_of(const BertConfig& c, int64_t i) {
  auto it = c.id2label.find(i);
  return it != c.id2label.end() ? it->second : "LABEL_" + std::to_string(i);
}

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

// ---- token classification ----
Aggregation parse_aggregation(const std::string& s) {
  if (s == "none") return Aggregation::None;
  if (s == "simple") return Aggregation::Simple;
  if (s == "first") return Aggregation::First;
  if (s == "average") return Aggregation::Average;
  if (s == "max") return Aggregation::Max;
  throw InputError("unknown aggregation '" + s + "': expected none, simple, first, average or max");
}

static std::size_t cp_len(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
static std::string cp_substr(const std::string& s, std::size_t a, std::size_t b) {
  std::size_t n = 0, ba = s.size(), bb = s.size();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (n == a) ba = i;
    if (n == b) {
      bb = i;
      break;
    }
    ++n;
  }
  if (a >= b || ba >= s.size()) return "";
  return s.substr(ba, bb - ba);
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
    std::string word_ref = cp_substr(text, p.start, p.end);
    if (wordpiece) {
      p.is_subword = cp_len(p.word) != cp_len(word_ref);
    } else {
      // transformers' fallback heuristic: no space around the token start.
      std::string around = p.start > 0 ? cp_substr(text, p.start - 1, p.start + 1) : "";
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

// ---- question answering ----
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
      std::string target = cp_substr(context, si, ei);
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

// ---- fill-mask ----
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

// ---- embeddings ----
Pooling parse_pooling(const std::string& s) {
  if (s == "cls" || s == "cls_token") return Pooling::Cls;
  if (s == "mean" || s == "mean_tokens") return Pooling::Mean;
  if (s == "max" || s == "max_tokens") return Pooling::Max;
  if (s == "mean_sqrt_len_tokens" || s == "mean_sqrt_len") return Pooling::MeanSqrtLen;
  throw InputError("unknown pooling '" + s + "': expected cls, mean, max or mean_sqrt_len_tokens");
}

static nlohmann::json read_json_file(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path + ": not valid JSON (" + e.what() + ")");
  }
}

EmbeddingModel load_embedding_model(const std::string& name_or_dir, const std::optional<EmbeddingOptions>& overrides,
                                    torch::Device device) {
  const std::string dir = hub::resolve_model_dir(name_or_dir);
  EmbeddingModel em;
  const std::string modules_path = dir + "/modules.json";
  std::string transformer_dir = dir;
  EmbeddingOptions opt;
  if (file_exists(modules_path)) {
    em.sentence_transformers = true;
    opt.pooling.clear();
    auto modules = read_json_file(modules_path);
    if (!modules.is_array()) throw InputError(modules_path + ": expected an array of modules");
    bool has_pooling = false;
    for (const auto& mod : modules) {
      std::string type = mod.value("type", "");
      std::string path = mod.value("path", "");
      std::string mdir = path.empty() ? dir : model_file(dir, path, modules_path);  // no way out of dir
      if (type.find("Transformer") != std::string::npos) {
        transformer_dir = mdir;
        std::string sb = mdir + "/sentence_bert_config.json";
        if (file_exists(sb)) {
          auto j = read_json_file(sb);
          if (j.contains("max_seq_length") && j["max_seq_length"].is_number_integer())
            opt.max_seq_length = j["max_seq_length"].get<std::size_t>();
        }
      } else if (type.find("Pooling") != std::string::npos) {
        has_pooling = true;
        auto j = read_json_file(mdir + "/config.json");
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

// ---- JSON ----
nlohmann::json to_json(const std::vector<LabelScore>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (auto& x : v) a.push_back({{"label", x.label}, {"score", x.score}});
  return a;
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

nlohmann::json to_json(const std::vector<QaAnswer>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (auto& x : v) a.push_back({{"score", x.score}, {"start", x.start}, {"end", x.end}, {"answer", x.answer}});
  if (a.size() == 1) return a[0];
  return a;
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
