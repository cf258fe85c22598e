// Classification, NER and QA tasks for the trainer (training/task.h).
// Legend: B batch, T tokens, L labels.
#include "bertkit/tasks/finetune.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/data/classification.h"
#include "bertkit/data/conll.h"
#include "bertkit/data/squad.h"
#include "bertkit/tasks/metrics.h"

namespace bertkit {

namespace {

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

// Evaluation batches: the examples (the first max_batches * batch_size of them when
// max_batches is set) sorted by length, so a batch pads to little; `f` gets each
// batch's example indices, and callers store results by index to report them in
// input order.
template <class Length, class F>
void for_batches(int64_t n, const EvalOptions& o, Length&& length_of, F&& f) {
  const int64_t bs = std::max<int64_t>(1, o.batch_size);
  if (o.max_batches > 0) n = std::min(n, o.max_batches * bs);
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return length_of(a) < length_of(b); });
  for (int64_t s = 0; s < n; s += bs) {
    f(std::vector<int64_t>(order.begin() + s, order.begin() + std::min(n, s + bs)));
    if (o.on_progress) o.on_progress(std::min(n, s + bs), n);
  }
}

// ======================= classification =======================
struct ClsData {
  std::vector<ClassificationExample> examples;
  std::vector<std::vector<int32_t>> ids, types;
};

class ClassificationTask;

class ClsDataset : public Dataset {
 public:
  ClsDataset(const ClassificationTask* task, const ClsData* data) : task_(task), data_(data) {}
  int64_t size() const override { return static_cast<int64_t>(data_->ids.size()); }
  Batch collate(const std::vector<int64_t>& indices, uint64_t seed) const override;
  int64_t example_length(int64_t i) const override { return static_cast<int64_t>(data_->ids[i].size()); }

 private:
  const ClassificationTask* task_;
  const ClsData* data_;
};

class ClassificationTask : public Task {
 public:
  explicit ClassificationTask(const TaskInputs& in) : tok_(in.tokenizer) {
    BERTKIT_CHECK_INPUT(tok_, in.task_path + ": classification needs a tokenizer (tokenizer.path or model.pretrained)");
    json::ObjectReader t(in.task, in.task_path);
    labels_ = t.get<std::vector<std::string>>("labels", {});
    problem_type_ = t.choice("problem_type", "single_label_classification",
                             {"single_label_classification", "regression", "multi_label_classification"});
    f1_average_ = t.choice("f1_average", "auto", {"auto", "binary", "micro", "macro", "weighted"});
    metric_ = t.get("metric", std::string());
    if (metric_ == "eval_loss") metric_ = "loss";
    max_seq_length_ = t.get<int64_t>("max_seq_length", 128);
    BERTKIT_CHECK_INPUT(max_seq_length_ >= 3, t.path_of("max_seq_length") + ": must be at least 3");
    t.finish();
    json::ObjectReader d(in.data, in.data_path);
    train_path_ = d.get("train", std::string());
    eval_path_ = d.get("eval", std::string());
    ro_.format = parse_table_format(d.choice("format", "auto", {"auto", "tsv", "csv", "jsonl"}));
    ro_.columns.text = d.get("text_column", std::string("sentence"));
    ro_.columns.text_pair = d.get("text_pair_column", std::string());
    ro_.columns.label = d.get("label_column", std::string("label"));
    ro_.header = d.get("header", true);
    ro_.label_separator = d.get("label_separator", std::string());
    ro_.skip_unlabelled = true;
    d.finish();
    if (!train_path_.empty()) load(train_path_, train_);
    if (!eval_path_.empty()) load(eval_path_, eval_);
    if (problem_type_ == "regression") {
      labels_ = {"LABEL_0"};
    } else if (labels_.empty()) {
      labels_ = config_labels(in.model_config);
      if (labels_.empty()) {
        std::vector<ClassificationExample> all = train_.examples;
        all.insert(all.end(), eval_.examples.begin(), eval_.examples.end());
        labels_ = collect_labels(all);
      }
    }
    BERTKIT_CHECK_INPUT(!labels_.empty(), in.task_path + ".labels: no labels given and none found in the data");
    for (std::size_t i = 0; i < labels_.size(); ++i) label_ids_[labels_[i]] = static_cast<int64_t>(i);
    check_labels(train_, train_path_);
    check_labels(eval_, eval_path_);
    max_seq_length_ = std::min<int64_t>(max_seq_length_, in.context.max_seq_length);
    encode(train_);
    encode(eval_);
  }

  std::string name() const override { return "classification"; }
  Architecture architecture() const override { return Architecture::BertForSequenceClassification; }
  void configure(BertConfig& c) const override {
    set_labels(c, labels_);
    c.problem_type = problem_type_;
  }
  std::shared_ptr<Dataset> train_dataset() override {
    BERTKIT_CHECK_INPUT(!train_path_.empty(), "data.train: the classification training file is not set");
    return std::make_shared<ClsDataset>(this, &train_);
  }
  bool has_eval() const override { return !eval_path_.empty(); }
  MetricSpec default_metric() const override {
    if (!metric_.empty()) return {metric_, metric_ != "loss" && metric_ != "mse"};
    if (problem_type_ == "regression") return {"pearson", true};
    if (problem_type_ == "multi_label_classification") return {"f1", true};
    return {"accuracy", true};
  }
  nlohmann::json resolved_task_section() const override {
    return {{"labels", labels_}, {"problem_type", problem_type_}, {"f1_average", f1_average_},
            {"max_seq_length", max_seq_length_}, {"metric", default_metric().name}};
  }

  // Labels of examples `idx` as the head's loss wants them.
  torch::Tensor labels_for(const ClsData& d, const std::vector<int64_t>& idx) const {
    const int64_t B = static_cast<int64_t>(idx.size());
    if (problem_type_ == "regression") {
      auto t = torch::zeros({B}, torch::kFloat);
      for (int64_t b = 0; b < B; ++b) t[b] = std::stof(d.examples[idx[b]].labels.at(0));
      return t;
    }
    if (problem_type_ == "multi_label_classification") {
      auto t = torch::zeros({B, static_cast<int64_t>(labels_.size())}, torch::kFloat);
      for (int64_t b = 0; b < B; ++b)
        for (auto& l : d.examples[idx[b]].labels) t[b][label_ids_.at(l)] = 1.0f;
      return t;
    }
    auto t = torch::zeros({B}, torch::kLong);
    for (int64_t b = 0; b < B; ++b) t[b] = label_ids_.at(d.examples[idx[b]].labels.at(0));
    return t;
  }

  Batch collate(const ClsData& d, const std::vector<int64_t>& idx, bool with_labels) const {
    std::vector<const std::vector<int32_t>*> ids, types;
    for (int64_t i : idx) ids.push_back(&d.ids[i]), types.push_back(&d.types[i]);
    Batch b = pad_inputs(ids, types, tok_->special_tokens().pad);
    if (with_labels) b.labels = labels_for(d, idx);
    return b;
  }

  Metrics evaluate(BertPreTrainedModelImpl& model, const EvalOptions& o) override {
    BERTKIT_CHECK_INPUT(has_eval(), "data.eval: no evaluation file set");
    Metrics m;
    double loss_sum = 0;
    int64_t loss_count = 0;
    std::vector<int64_t> gold_c, pred_c;
    std::vector<double> gold_r, pred_r;
    std::vector<std::vector<int64_t>> gold_ml, pred_ml;
    std::vector<nlohmann::json> rows;
    const int64_t n = static_cast<int64_t>(eval_.ids.size());
    std::vector<std::vector<float>> logit_rows(static_cast<std::size_t>(n));  // by example, filled batch by batch
    auto length_of = [&](int64_t i) { return eval_.ids[i].size(); };
    for_batches(n, o, length_of, [&](const std::vector<int64_t>& idx) {
      Batch b = collate(eval_, idx, true).to(o.device);
      ModelOutput out = model.forward(b, o.forward);
      // The mean over examples (as HF's Trainer), whatever the batching.
      if (out.loss.defined()) loss_sum += out.loss.item<double>() * static_cast<double>(idx.size()), loss_count += idx.size();
      auto logits = out.logits.to(torch::kCPU).to(torch::kFloat).contiguous();  // [B, L]
      for (std::size_t k = 0; k < idx.size(); ++k) logit_rows[idx[k]] = row_vector(logits[static_cast<int64_t>(k)]);
    });
    for (int64_t i = 0; i < n; ++i) {
      if (logit_rows[i].empty()) continue;  // after max_batches
      const auto& ex = eval_.examples[i];
      const std::vector<float>& row = logit_rows[i];
      nlohmann::json r{{"index", i}, {"text", ex.text}};
      if (ex.has_pair) r["text_pair"] = ex.text_pair;
      if (problem_type_ == "regression") {
        gold_r.push_back(std::stod(ex.labels.at(0)));
        pred_r.push_back(row[0]);
        r["label"] = gold_r.back();
        r["prediction"] = pred_r.back();
      } else if (problem_type_ == "multi_label_classification") {
        std::vector<int64_t> g(labels_.size(), 0), p(labels_.size(), 0);
        std::vector<std::string> pl;
        for (auto& l : ex.labels) g[label_ids_.at(l)] = 1;
        for (std::size_t j = 0; j < labels_.size(); ++j)
          if (row[j] > 0) p[j] = 1, pl.push_back(labels_[j]);
        gold_ml.push_back(g);
        pred_ml.push_back(p);
        r["label"] = ex.labels;
        r["prediction"] = pl;
      } else {
        int64_t p = std::max_element(row.begin(), row.end()) - row.begin();
        float mx = row[p], sum = 0;
        for (float v : row) sum += std::exp(v - mx);
        gold_c.push_back(label_ids_.at(ex.labels.at(0)));
        pred_c.push_back(p);
        r["label"] = ex.labels.at(0);
        r["prediction"] = labels_[p];
        r["score"] = 1.0 / sum;
      }
      rows.push_back(std::move(r));
    }
    if (loss_count) m["loss"] = loss_sum / loss_count;  // the trainer writes it as eval_loss
    if (problem_type_ == "regression") {
      m["pearson"] = pearson(pred_r, gold_r);
      m["spearman"] = spearman(pred_r, gold_r);
      double mse = 0;
      for (std::size_t i = 0; i < gold_r.size(); ++i) mse += (pred_r[i] - gold_r[i]) * (pred_r[i] - gold_r[i]);
      m["mse"] = gold_r.empty() ? 0 : mse / gold_r.size();
    } else if (problem_type_ == "multi_label_classification") {
      std::vector<int64_t> g, p;
      double exact = 0;
      for (std::size_t i = 0; i < gold_ml.size(); ++i) {
        exact += gold_ml[i] == pred_ml[i];
        for (std::size_t j = 0; j < labels_.size(); ++j) {
          // micro F1 over (example, label) pairs: class 1 = label present
          g.push_back(gold_ml[i][j]);
          p.push_back(pred_ml[i][j]);
        }
      }
      PRF r = precision_recall_f1(p, g, Average::Binary, 1);
      m["f1"] = r.f1;
      m["precision"] = r.precision;
      m["recall"] = r.recall;
      m["subset_accuracy"] = gold_ml.empty() ? 0 : exact / gold_ml.size();
    } else {
      m["accuracy"] = accuracy(pred_c, gold_c);
      Average avg = f1_average_ == "auto" ? (labels_.size() == 2 ? Average::Binary : Average::Macro)
                                          : parse_average(f1_average_);
      PRF r = precision_recall_f1(pred_c, gold_c, avg, 1);
      m["f1"] = r.f1;
      m["precision"] = r.precision;
      m["recall"] = r.recall;
      m["mcc"] = matthews_corrcoef(pred_c, gold_c);
      std::set<int64_t> gs(gold_c.begin(), gold_c.end());
      // majority-class baseline for reference
      std::map<int64_t, int64_t> cnt;
      for (auto g : gold_c) ++cnt[g];
      int64_t mx = 0;
      for (auto& [k, v] : cnt) mx = std::max(mx, v);
      m["majority_accuracy"] = gold_c.empty() ? 0 : double(mx) / gold_c.size();
    }
    write_jsonl(o.predictions_path, rows);
    return m;
  }

 private:
  void load(const std::string& path, ClsData& d) { d.examples = read_classification(path, ro_); }
  void check_labels(const ClsData& d, const std::string& path) const {
    for (auto& ex : d.examples) {
      if (problem_type_ == "regression") {
        BERTKIT_CHECK_INPUT(ex.labels.size() == 1, path + ":" + std::to_string(ex.line) + ": expected one regression value");
        try {
          std::size_t used = 0;
          std::stod(ex.labels[0], &used);
          if (used != ex.labels[0].size()) throw std::invalid_argument("x");
        } catch (const std::exception&) {
          throw InputError(path + ":" + std::to_string(ex.line) + ": regression label '" + ex.labels[0] + "' is not a number");
        }
        continue;
      }
      if (problem_type_ == "single_label_classification")
        BERTKIT_CHECK_INPUT(ex.labels.size() == 1, path + ":" + std::to_string(ex.line) + ": expected one label, got " +
                                                      std::to_string(ex.labels.size()) +
                                                      " (multi-label data needs task.problem_type multi_label_classification)");
      for (auto& l : ex.labels)
        if (!label_ids_.count(l)) {
          std::string all;
          for (auto& x : labels_) all += (all.empty() ? "" : ", ") + x;
          throw InputError(path + ":" + std::to_string(ex.line) + ": label '" + l + "' is not one of the labels (" + all + ")");
        }
    }
  }
  void encode(ClsData& d) const {
    EncodeOptions eo;
    eo.max_length = static_cast<std::size_t>(max_seq_length_);
    eo.truncation = Truncation::LongestFirst;
    for (auto& ex : d.examples) {
      Encoding e = ex.has_pair ? tok_->encode(ex.text, std::string_view(ex.text_pair), eo) : tok_->encode(ex.text, std::nullopt, eo);
      d.ids.push_back(std::move(e.ids));
      d.types.push_back(std::move(e.type_ids));
    }
  }

  std::shared_ptr<Tokenizer> tok_;
  std::vector<std::string> labels_;
  std::map<std::string, int64_t> label_ids_;
  std::string problem_type_, f1_average_, metric_;
  int64_t max_seq_length_ = 128;
  std::string train_path_, eval_path_;
  ClassificationReadOptions ro_;
  ClsData train_, eval_;
};

Batch ClsDataset::collate(const std::vector<int64_t>& indices, uint64_t) const {
  return task_->collate(*data_, indices, true);
}

// ======================= NER =======================
struct NerData {
  std::vector<TaggedSentence> sentences;
  std::vector<NerFeature> features;
  std::vector<std::vector<std::size_t>> by_sentence;
};

class NerTask;
class NerDataset : public Dataset {
 public:
  NerDataset(const NerTask* t, const NerData* d) : task_(t), data_(d) {}
  int64_t size() const override { return static_cast<int64_t>(data_->features.size()); }
  Batch collate(const std::vector<int64_t>& indices, uint64_t seed) const override;

 private:
  const NerTask* task_;
  const NerData* data_;
};

class NerTask : public Task {
 public:
  explicit NerTask(const TaskInputs& in) : tok_(in.tokenizer) {
    BERTKIT_CHECK_INPUT(tok_, in.task_path + ": ner needs a tokenizer (tokenizer.path or model.pretrained)");
    json::ObjectReader t(in.task, in.task_path);
    labels_ = t.get<std::vector<std::string>>("labels", {});
    fo_.max_seq_length = static_cast<std::size_t>(t.get<int64_t>("max_seq_length", 128));
    fo_.label_all_tokens = t.get("label_all_tokens", false);
    metric_ = t.get("metric", std::string("f1"));
    if (metric_ == "eval_loss") metric_ = "loss";
    t.finish();
    json::ObjectReader d(in.data, in.data_path);
    train_path_ = d.get("train", std::string());
    eval_path_ = d.get("eval", std::string());
    co_.scheme = parse_tag_scheme(d.choice("scheme", "auto", {"auto", "iob1", "iob2"}));
    co_.tag_column = static_cast<int>(d.get<int64_t>("tag_column", -1));
    d.finish();
    fo_.max_seq_length = std::min<std::size_t>(fo_.max_seq_length, static_cast<std::size_t>(in.context.max_seq_length));
    if (!train_path_.empty()) train_.sentences = read_conll(train_path_, co_);
    if (!eval_path_.empty()) eval_.sentences = read_conll(eval_path_, co_);
    if (labels_.empty()) labels_ = config_labels(in.model_config);
    if (labels_.empty()) {
      std::vector<TaggedSentence> all = train_.sentences;
      all.insert(all.end(), eval_.sentences.begin(), eval_.sentences.end());
      labels_ = collect_tags(all);
    }
    BERTKIT_CHECK_INPUT(!labels_.empty(), in.task_path + ".labels: no labels given and none found in the data");
    for (std::size_t i = 0; i < labels_.size(); ++i) ids_[labels_[i]] = static_cast<int32_t>(i);
    b_to_i_.resize(labels_.size());
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      b_to_i_[i] = static_cast<int32_t>(i);
      if (labels_[i].rfind("B-", 0) == 0) {
        auto it = ids_.find("I-" + labels_[i].substr(2));
        if (it != ids_.end()) b_to_i_[i] = it->second;
      }
    }
    build(train_, train_path_);
    build(eval_, eval_path_);
  }
  std::string name() const override { return "ner"; }
  Architecture architecture() const override { return Architecture::BertForTokenClassification; }
  void configure(BertConfig& c) const override { set_labels(c, labels_); }
  std::shared_ptr<Dataset> train_dataset() override {
    BERTKIT_CHECK_INPUT(!train_path_.empty(), "data.train: the CoNLL training file is not set");
    return std::make_shared<NerDataset>(this, &train_);
  }
  bool has_eval() const override { return !eval_path_.empty(); }
  MetricSpec default_metric() const override { return {metric_, metric_ != "loss"}; }
  nlohmann::json resolved_task_section() const override {
    return {{"labels", labels_}, {"max_seq_length", fo_.max_seq_length}, {"label_all_tokens", fo_.label_all_tokens},
            {"metric", metric_}};
  }

  Batch collate(const NerData& d, const std::vector<int64_t>& idx) const {
    std::vector<const std::vector<int32_t>*> ids, types;
    std::size_t T = 0;
    for (int64_t i : idx) ids.push_back(&d.features[i].input_ids), T = std::max(T, d.features[i].input_ids.size());
    Batch b = pad_inputs(ids, types, tok_->special_tokens().pad);
    auto labels = torch::full({static_cast<int64_t>(idx.size()), static_cast<int64_t>(T)}, -100, torch::kLong);
    auto pl = labels.accessor<int64_t, 2>();
    for (std::size_t k = 0; k < idx.size(); ++k) {
      const auto& f = d.features[idx[k]];
      for (std::size_t t = 0; t < f.labels.size(); ++t) pl[k][t] = f.labels[t];
    }
    b.labels = labels;
    return b;
  }

  Metrics evaluate(BertPreTrainedModelImpl& model, const EvalOptions& o) override {
    BERTKIT_CHECK_INPUT(has_eval(), "data.eval: no evaluation file set");
    std::vector<std::vector<int32_t>> token_preds(eval_.features.size());
    double loss_sum = 0;
    int64_t loss_count = 0;
    std::vector<uint8_t> done(eval_.features.size(), 0);
    auto length_of = [&](int64_t i) { return eval_.features[i].input_ids.size(); };
    for_batches(static_cast<int64_t>(eval_.features.size()), o, length_of, [&](const std::vector<int64_t>& idx) {
      Batch b = collate(eval_, idx).to(o.device);
      ModelOutput out = model.forward(b, o.forward);
      // The mean over labelled tokens, whatever the batching.
      const int64_t labelled = b.labels.ne(-100).sum().item<int64_t>();
      if (out.loss.defined() && labelled > 0)
        loss_sum += out.loss.item<double>() * static_cast<double>(labelled), loss_count += labelled;
      auto pred = out.logits.argmax(-1).to(torch::kCPU).to(torch::kInt);  // [B, T]
      for (std::size_t k = 0; k < idx.size(); ++k) {
        auto row = pred[static_cast<int64_t>(k)].contiguous();
        token_preds[idx[k]].assign(row.data_ptr<int32_t>(), row.data_ptr<int32_t>() + row.numel());
        done[idx[k]] = 1;
      }
    });
    std::vector<std::vector<std::string>> gold, predt;
    std::vector<nlohmann::json> rows;
    const int32_t o_id = ids_.count("O") ? ids_.at("O") : 0;
    for (std::size_t s = 0; s < eval_.sentences.size(); ++s) {
      std::vector<const NerFeature*> wins;
      std::vector<std::vector<int32_t>> preds;
      bool complete = true;
      for (std::size_t fi : eval_.by_sentence[s]) {
        complete = complete && done[fi];
        wins.push_back(&eval_.features[fi]);
        preds.push_back(token_preds[fi]);
      }
      if (!complete) continue;  // max_batches cut this sentence
      const auto& sent = eval_.sentences[s];
      auto wp = word_predictions(wins, preds, sent.words.size(), o_id);
      std::vector<std::string> tags;
      for (int32_t p : wp) tags.push_back(labels_[p]);
      gold.push_back(sent.tags);
      predt.push_back(tags);
      rows.push_back({{"index", s}, {"words", sent.words}, {"labels", sent.tags}, {"predictions", tags}});
    }
    SeqevalReport r = seqeval(gold, predt);
    Metrics m;
    if (loss_count) m["loss"] = loss_sum / loss_count;  // the trainer writes it as eval_loss
    m["precision"] = r.micro.precision;
    m["recall"] = r.micro.recall;
    m["f1"] = r.micro.f1;
    m["accuracy"] = r.accuracy;
    for (auto& [type, prf] : r.per_type) {
      m[type + "_precision"] = prf.precision;
      m[type + "_recall"] = prf.recall;
      m[type + "_f1"] = prf.f1;
      m[type + "_support"] = static_cast<double>(prf.support);
    }
    write_jsonl(o.predictions_path, rows);
    return m;
  }

 private:
  void build(NerData& d, const std::string& path) {
    d.by_sentence.assign(d.sentences.size(), {});
    for (std::size_t s = 0; s < d.sentences.size(); ++s) {
      const auto& sent = d.sentences[s];
      std::vector<int32_t> lab;
      for (std::size_t w = 0; w < sent.tags.size(); ++w) {
        auto it = ids_.find(sent.tags[w]);
        if (it == ids_.end())
          throw InputError(path + ":" + std::to_string(sent.line + w) + ": tag '" + sent.tags[w] +
                           "' is not one of the task's labels");
        lab.push_back(it->second);
      }
      for (auto& f : make_ner_features(*tok_, sent.words, lab, fo_, s, b_to_i_)) {
        d.by_sentence[s].push_back(d.features.size());
        d.features.push_back(std::move(f));
      }
    }
  }
  std::shared_ptr<Tokenizer> tok_;
  std::vector<std::string> labels_;
  std::map<std::string, int32_t> ids_;
  std::vector<int32_t> b_to_i_;
  NerFeatureOptions fo_;
  ConllReadOptions co_;
  std::string metric_, train_path_, eval_path_;
  NerData train_, eval_;
};

Batch NerDataset::collate(const std::vector<int64_t>& indices, uint64_t) const { return task_->collate(*data_, indices); }

// ======================= QA =======================
struct QaData {
  std::vector<SquadExample> examples;
  std::vector<QaFeature> features;
  std::vector<std::vector<std::size_t>> by_example;
};

class QaTask;
class QaDataset : public Dataset {
 public:
  QaDataset(const QaTask* t, const QaData* d) : task_(t), data_(d) {}
  int64_t size() const override { return static_cast<int64_t>(data_->features.size()); }
  Batch collate(const std::vector<int64_t>& indices, uint64_t seed) const override;

 private:
  const QaTask* task_;
  const QaData* data_;
};

class QaTask : public Task {
 public:
  explicit QaTask(const TaskInputs& in) : tok_(in.tokenizer) {
    BERTKIT_CHECK_INPUT(tok_, in.task_path + ": qa needs a tokenizer (tokenizer.path or model.pretrained)");
    json::ObjectReader t(in.task, in.task_path);
    fo_.max_seq_length = static_cast<std::size_t>(t.get<int64_t>("max_seq_length", 384));
    fo_.doc_stride = static_cast<std::size_t>(t.get<int64_t>("doc_stride", 128));
    fo_.max_query_length = static_cast<std::size_t>(t.get<int64_t>("max_query_length", 64));
    po_.n_best_size = static_cast<std::size_t>(t.get<int64_t>("n_best_size", 20));
    po_.max_answer_length = static_cast<std::size_t>(t.get<int64_t>("max_answer_length", 30));
    po_.version_2_with_negative = t.get("version_2_with_negative", false);
    po_.null_score_diff_threshold = t.get("null_score_diff_threshold", 0.0);
    metric_ = t.get("metric", std::string("f1"));
    if (metric_ == "eval_loss") metric_ = "loss";
    t.finish();
    json::ObjectReader d(in.data, in.data_path);
    train_path_ = d.get("train", std::string());
    eval_path_ = d.get("eval", std::string());
    d.finish();
    fo_.max_seq_length = std::min<std::size_t>(fo_.max_seq_length, static_cast<std::size_t>(in.context.max_seq_length));
    BERTKIT_CHECK_INPUT(fo_.doc_stride < fo_.max_seq_length, in.task_path + ".doc_stride (" + std::to_string(fo_.doc_stride) +
                                                                 ") must be smaller than max_seq_length (" +
                                                                 std::to_string(fo_.max_seq_length) + ")");
    if (!train_path_.empty()) train_.examples = read_squad(train_path_), build(train_, true);
    if (!eval_path_.empty()) eval_.examples = read_squad(eval_path_), build(eval_, false);
  }
  std::string name() const override { return "qa"; }
  Architecture architecture() const override { return Architecture::BertForQuestionAnswering; }
  void configure(BertConfig& c) const override { set_labels(c, {"LABEL_0", "LABEL_1"}); }
  std::shared_ptr<Dataset> train_dataset() override {
    BERTKIT_CHECK_INPUT(!train_path_.empty(), "data.train: the SQuAD training file is not set");
    return std::make_shared<QaDataset>(this, &train_);
  }
  bool has_eval() const override { return !eval_path_.empty(); }
  MetricSpec default_metric() const override { return {metric_, metric_ != "loss"}; }
  nlohmann::json resolved_task_section() const override {
    return {{"max_seq_length", fo_.max_seq_length}, {"doc_stride", fo_.doc_stride}, {"max_query_length", fo_.max_query_length},
            {"n_best_size", po_.n_best_size}, {"max_answer_length", po_.max_answer_length},
            {"version_2_with_negative", po_.version_2_with_negative},
            {"null_score_diff_threshold", po_.null_score_diff_threshold}, {"metric", metric_}};
  }

  Batch collate(const QaData& d, const std::vector<int64_t>& idx, bool labels) const {
    std::vector<const std::vector<int32_t>*> ids, types;
    for (int64_t i : idx) ids.push_back(&d.features[i].input_ids), types.push_back(&d.features[i].type_ids);
    Batch b = pad_inputs(ids, types, tok_->special_tokens().pad);
    if (labels) {
      auto sp = torch::zeros({static_cast<int64_t>(idx.size())}, torch::kLong);
      auto ep = torch::zeros({static_cast<int64_t>(idx.size())}, torch::kLong);
      for (std::size_t k = 0; k < idx.size(); ++k) {
        sp[static_cast<int64_t>(k)] = d.features[idx[k]].start_position;
        ep[static_cast<int64_t>(k)] = d.features[idx[k]].end_position;
      }
      b.start_positions = sp;
      b.end_positions = ep;
    }
    return b;
  }

  Metrics evaluate(BertPreTrainedModelImpl& model, const EvalOptions& o) override {
    BERTKIT_CHECK_INPUT(has_eval(), "data.eval: no evaluation file set");
    std::vector<std::vector<float>> sl(eval_.features.size()), el(eval_.features.size());
    std::vector<uint8_t> done(eval_.features.size(), 0);
    auto length_of = [&](int64_t i) { return eval_.features[i].input_ids.size(); };
    for_batches(static_cast<int64_t>(eval_.features.size()), o, length_of, [&](const std::vector<int64_t>& idx) {
      Batch b = collate(eval_, idx, false).to(o.device);
      ModelOutput out = model.forward(b, o.forward);
      auto s = out.start_logits.to(torch::kCPU).to(torch::kFloat), e = out.end_logits.to(torch::kCPU).to(torch::kFloat);
      for (std::size_t k = 0; k < idx.size(); ++k) {
        auto n = static_cast<int64_t>(eval_.features[idx[k]].input_ids.size());
        sl[idx[k]] = row_vector(s[static_cast<int64_t>(k)].slice(0, 0, n));
        el[idx[k]] = row_vector(e[static_cast<int64_t>(k)].slice(0, 0, n));
        done[idx[k]] = 1;
      }
    });
    std::vector<SquadEvalItem> items;
    std::vector<nlohmann::json> rows;
    for (std::size_t x = 0; x < eval_.examples.size(); ++x) {
      std::vector<const QaFeature*> fs;
      std::vector<std::vector<float>> s, e;
      bool complete = !eval_.by_example[x].empty();
      for (std::size_t fi : eval_.by_example[x]) {
        complete = complete && done[fi];
        fs.push_back(&eval_.features[fi]);
        s.push_back(sl[fi]);
        e.push_back(el[fi]);
      }
      if (!complete) continue;
      const auto& ex = eval_.examples[x];
      QaPrediction p = postprocess_qa(ex.context, fs, s, e, po_);
      SquadEvalItem it;
      it.prediction = p.text;
      it.null_score_diff = p.null_score_diff;
      for (auto& a : ex.answers) it.gold.push_back(a.text);
      items.push_back(it);
      nlohmann::json r{{"id", ex.id}, {"prediction_text", p.text}, {"answers", it.gold}};
      if (!p.text.empty()) r["start"] = p.start, r["end"] = p.end;
      if (po_.version_2_with_negative) r["null_score_diff"] = p.null_score_diff;
      rows.push_back(std::move(r));
    }
    SquadScores sc = squad_evaluate(items, po_.version_2_with_negative);
    Metrics m{{"exact", sc.exact}, {"f1", sc.f1}, {"total", static_cast<double>(sc.total)}};
    if (sc.v2) {
      m["HasAns_exact"] = sc.has_ans_exact, m["HasAns_f1"] = sc.has_ans_f1, m["HasAns_total"] = double(sc.has_ans_total);
      m["NoAns_exact"] = sc.no_ans_exact, m["NoAns_f1"] = sc.no_ans_f1, m["NoAns_total"] = double(sc.no_ans_total);
      m["best_exact"] = sc.best_exact, m["best_exact_thresh"] = sc.best_exact_thresh;
      m["best_f1"] = sc.best_f1, m["best_f1_thresh"] = sc.best_f1_thresh;
    }
    write_jsonl(o.predictions_path, rows);
    return m;
  }

 private:
  void build(QaData& d, bool training) {
    d.by_example.assign(d.examples.size(), {});
    for (std::size_t x = 0; x < d.examples.size(); ++x) {
      const auto& ex = d.examples[x];
      std::optional<SquadAnswer> ans;
      if (training && !ex.is_impossible && !ex.answers.empty()) ans = ex.answers[0];
      for (auto& f : make_qa_features(*tok_, ex.question, ex.context, ans, fo_, x)) {
        d.by_example[x].push_back(d.features.size());
        d.features.push_back(std::move(f));
      }
    }
  }
  std::shared_ptr<Tokenizer> tok_;
  QaFeatureOptions fo_;
  QaPostprocessOptions po_;
  std::string metric_, train_path_, eval_path_;
  QaData train_, eval_;
};

Batch QaDataset::collate(const std::vector<int64_t>& indices, uint64_t) const {
  return task_->collate(*data_, indices, true);
}

}  // namespace

std::unique_ptr<Task> make_classification_task(const TaskInputs& in) { return std::make_unique<ClassificationTask>(in); }
std::unique_ptr<Task> make_ner_task(const TaskInputs& in) { return std::make_unique<NerTask>(in); }
std::unique_ptr<Task> make_qa_task(const TaskInputs& in) { return std::make_unique<QaTask>(in); }

std::vector<std::string> finetune_task_names() { return {"classification", "ner", "qa"}; }

}  // namespace bertkit
