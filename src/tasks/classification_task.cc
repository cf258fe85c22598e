// The "classification" task (training/task.h): single sentences or pairs; single-label, regression, multi-label.
// Legend: B batch, T tokens, L labels.
#include "bertkit/tasks/finetune.h"

#include <cmath>
#include <map>
#include <set>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/data/classification.h"
#include "bertkit/tasks/metrics.h"
#include "finetune_util.h"

namespace bertkit {

namespace {

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
    gather_rows(logit_rows, o);
    sum_loss_over_processes(loss_sum, loss_count, o);
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

}  // namespace

std::unique_ptr<Task> make_classification_task(const TaskInputs& in) { return std::make_unique<ClassificationTask>(in); }

}  // namespace bertkit
