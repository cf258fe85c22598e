// The "qa" task (training/task.h): SQuAD v1.1 / v2.0 JSON, EM/F1.
// Legend: B batch, T tokens, L labels.
#include "bertkit/tasks/finetune.h"

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/data/squad.h"
#include "bertkit/tasks/metrics.h"
#include "finetune_util.h"

namespace bertkit {

namespace {

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
    auto length_of = [&](int64_t i) { return eval_.features[i].input_ids.size(); };
    for_batches(static_cast<int64_t>(eval_.features.size()), o, length_of, [&](const std::vector<int64_t>& idx) {
      Batch b = collate(eval_, idx, false).to(o.device);
      ModelOutput out = model.forward(b, o.forward);
      auto s = out.start_logits.to(torch::kCPU).to(torch::kFloat), e = out.end_logits.to(torch::kCPU).to(torch::kFloat);
      for (std::size_t k = 0; k < idx.size(); ++k) {
        auto n = static_cast<int64_t>(eval_.features[idx[k]].input_ids.size());
        sl[idx[k]] = row_vector(s[static_cast<int64_t>(k)].slice(0, 0, n));
        el[idx[k]] = row_vector(e[static_cast<int64_t>(k)].slice(0, 0, n));
      }
    });
    gather_rows(sl, o);
    gather_rows(el, o);
    std::vector<SquadEvalItem> items;
    std::vector<nlohmann::json> rows;
    for (std::size_t x = 0; x < eval_.examples.size(); ++x) {
      std::vector<const QaFeature*> fs;
      std::vector<std::vector<float>> s, e;
      bool complete = !eval_.by_example[x].empty();
      for (std::size_t fi : eval_.by_example[x]) {
        complete = complete && !sl[fi].empty();  // evaluated: [CLS] [SEP] at least
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

std::unique_ptr<Task> make_qa_task(const TaskInputs& in) { return std::make_unique<QaTask>(in); }

}  // namespace bertkit
