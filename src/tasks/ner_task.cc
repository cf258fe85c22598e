// The "ner" task (training/task.h): CoNLL files, seqeval metrics.
// Legend: B batch, T tokens, L labels.
#include "bertkit/tasks/finetune.h"

#include <map>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/data/conll.h"
#include "bertkit/tasks/metrics.h"
#include "finetune_util.h"

namespace bertkit {

namespace {

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
      }
    });
    gather_rows(token_preds, o);
    sum_loss_over_processes(loss_sum, loss_count, o);
    std::vector<std::vector<std::string>> gold, predt;
    std::vector<nlohmann::json> rows;
    const int32_t o_id = ids_.count("O") ? ids_.at("O") : 0;
    for (std::size_t s = 0; s < eval_.sentences.size(); ++s) {
      std::vector<const NerFeature*> wins;
      std::vector<std::vector<int32_t>> preds;
      bool complete = true;
      for (std::size_t fi : eval_.by_sentence[s]) {
        complete = complete && !token_preds[fi].empty();  // evaluated: [CLS] [SEP] at least
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

}  // namespace

std::unique_ptr<Task> make_ner_task(const TaskInputs& in) { return std::make_unique<NerTask>(in); }

}  // namespace bertkit
