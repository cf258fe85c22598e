// Evaluation batches sorted by length give the metrics and predictions of
// one-example batches (no padding, no sorting effect), in input order; two
// processes sharing the batches out give those of one.
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <torch/torch.h>

#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/models/bert_model.h"
#include "bertkit/tasks/finetune.h"
#include "test_util.h"

namespace bertkit::test {
namespace {

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// The first `n` lines (after the header) of a file, written to a temporary copy.
std::string head_of(const std::string& path, int n, const std::string& name) {
  std::ifstream in(path);
  std::ostringstream out;
  std::string line;
  for (int i = 0; i <= n && std::getline(in, line); ++i) out << line << "\n";
  std::string p = make_temp_dir("bertkit-sorted-eval") + "/" + name;
  std::ofstream(p) << out.str();
  return p;
}

struct EvalRun {
  Metrics metrics;
  std::vector<nlohmann::json> predictions;
};

EvalRun evaluate_with(Task& task, BertPreTrainedModelImpl& model, int64_t batch_size,
                      PaddingMode padding = PaddingMode::Auto) {
  EvalOptions o;
  o.batch_size = batch_size;
  o.forward.padding = padding;
  o.predictions_path = make_temp_dir("bertkit-sorted-eval") + "/predictions.jsonl";
  torch::NoGradGuard ng;
  EvalRun r;
  r.metrics = task.evaluate(model, o);
  r.predictions = read_jsonl(o.predictions_path);
  return r;
}

BertPreTrainedModel small_model(const Task& task, Architecture arch) {
  BertConfig c;
  c.vocab_size = 30522;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  task.configure(c);
  torch::manual_seed(7);
  auto m = create_model(arch, c);
  m->eval();
  return m;
}

std::shared_ptr<Tokenizer> uncased() {
  return std::shared_ptr<Tokenizer>(load_tokenizer(shared_path("data/bert-vocab/bert-base-uncased-vocab.txt")).release());
}

// Classification on the first 40 SST-2 dev sentences.
std::unique_ptr<Task> sst2_head_task() {
  TaskInputs in;
  in.tokenizer = uncased();
  in.task = {{"labels", {"0", "1"}}};
  in.data = {{"eval", head_of(shared_path("data/glue/SST-2/dev.tsv"), 40, "dev.tsv")}};
  return make_classification_task(in);
}

// NER on the first 600 lines of CoNLL-2003 valid (cased vocabulary).
std::unique_ptr<Task> conll_head_task() {
  TaskInputs in;
  in.tokenizer = std::shared_ptr<Tokenizer>(load_tokenizer(shared_path("data/bert-vocab/bert-base-cased-vocab.txt")).release());
  in.task = nlohmann::json::object();
  in.data = {{"eval", head_of(shared_path("data/conll2003/valid.txt"), 600, "valid.txt")}};
  return make_ner_task(in);
}

// Question answering on the first 3 paragraphs of SQuAD v1.1 dev, in windows
// of 128 tokens (stride 64), so most questions span several features.
std::unique_ptr<Task> squad_head_task() {
  nlohmann::json dev = json::load_file(shared_path("data/squad/dev-v1.1.part1.json"));
  auto& paragraphs = dev["data"][0]["paragraphs"];
  paragraphs.erase(paragraphs.begin() + 3, paragraphs.end());
  dev["data"].erase(dev["data"].begin() + 1, dev["data"].end());
  const std::string path = make_temp_dir("bertkit-sorted-eval") + "/squad-head.json";
  json::save_file(path, dev);
  TaskInputs in;
  in.tokenizer = uncased();
  in.task = {{"max_seq_length", 128}, {"doc_stride", 64}};
  in.data = {{"eval", path}};
  return make_qa_task(in);
}

TEST(SortedEval, ClassificationEqualsOneExampleBatchesInInputOrder) {
  BERTKIT_NEED_SHARED("data/glue/SST-2/dev.tsv");
  auto task = sst2_head_task();
  auto model = small_model(*task, task->architecture());
  EvalRun one = evaluate_with(*task, *model, 1);
  EvalRun sorted = evaluate_with(*task, *model, 16);
  ASSERT_EQ(one.predictions.size(), 40u);
  ASSERT_EQ(sorted.predictions.size(), 40u);
  for (std::size_t i = 0; i < 40; ++i) {
    EXPECT_EQ(sorted.predictions[i]["index"], i);
    EXPECT_EQ(sorted.predictions[i]["text"], one.predictions[i]["text"]);
    EXPECT_EQ(sorted.predictions[i]["prediction"], one.predictions[i]["prediction"]) << i;
    EXPECT_NEAR(sorted.predictions[i]["score"].get<double>(), one.predictions[i]["score"].get<double>(), 1e-5) << i;
  }
  for (const char* k : {"accuracy", "f1", "mcc"}) EXPECT_EQ(sorted.metrics.at(k), one.metrics.at(k)) << k;
  EXPECT_NEAR(sorted.metrics.at("loss"), one.metrics.at("loss"), 1e-5);
  EvalRun padded = evaluate_with(*task, *model, 16, PaddingMode::Padded);
  EXPECT_NEAR(padded.metrics.at("loss"), one.metrics.at("loss"), 1e-5);
  EXPECT_NEAR(padded.metrics.at("loss"), sorted.metrics.at("loss"), 1e-5);
}

TEST(SortedEval, NerEqualsOneSentenceBatchesInInputOrder) {
  BERTKIT_NEED_SHARED("data/conll2003/valid.txt");
  auto task = conll_head_task();
  auto model = small_model(*task, task->architecture());
  EvalRun one = evaluate_with(*task, *model, 1);
  EvalRun sorted = evaluate_with(*task, *model, 8);
  ASSERT_GT(one.predictions.size(), 10u);
  ASSERT_EQ(sorted.predictions.size(), one.predictions.size());
  for (std::size_t i = 0; i < one.predictions.size(); ++i) {
    EXPECT_EQ(sorted.predictions[i]["index"], one.predictions[i]["index"]);
    EXPECT_EQ(sorted.predictions[i]["predictions"], one.predictions[i]["predictions"]) << i;
  }
  for (const char* k : {"f1", "precision", "recall", "accuracy"}) EXPECT_EQ(sorted.metrics.at(k), one.metrics.at(k)) << k;
  EXPECT_NEAR(sorted.metrics.at("loss"), one.metrics.at("loss"), 1e-5);
}

// Two evaluating "processes" as threads: sum() returns the element-wise sum of
// both threads' vectors of the same call, and keeps what each one sent.
class TwoProcessSum {
 public:
  std::vector<double> sum(int rank, const std::vector<double>& v) {
    std::unique_lock<std::mutex> lock(mu_);
    sent_[rank].push_back(v);
    const int64_t round = round_;
    part_[rank] = v;
    if (++arrived_ == 2) {
      result_ = part_[0];
      for (std::size_t i = 0; i < result_.size() && i < part_[1].size(); ++i) result_[i] += part_[1][i];
      arrived_ = 0;
      ++round_;
      done_.notify_all();
    } else {
      done_.wait(lock, [&] { return round_ != round; });
    }
    return result_;
  }
  const std::vector<std::vector<double>>& sent(int rank) const { return sent_[rank]; }

 private:
  std::mutex mu_;
  std::condition_variable done_;
  std::vector<double> part_[2], result_;
  std::vector<std::vector<double>> sent_[2];
  int arrived_ = 0;
  int64_t round_ = 0;
};

// Rank 0 and rank 1 of two evaluating processes, batch size 8; rank 0's
// predictions (the only ones written, as in training).
EvalRun evaluate_as_two_processes(Task& task, BertPreTrainedModelImpl& model, TwoProcessSum& summer) {
  EvalRun runs[2];
  auto run = [&](int rank) {
    EvalOptions o;
    o.batch_size = 8;
    o.rank = rank;
    o.world_size = 2;
    o.sum_over_processes = [&summer, rank](const std::vector<double>& v) { return summer.sum(rank, v); };
    if (rank == 0) o.predictions_path = make_temp_dir("bertkit-sorted-eval") + "/predictions.jsonl";
    torch::NoGradGuard ng;
    runs[rank].metrics = task.evaluate(model, o);
    if (rank == 0) runs[0].predictions = read_jsonl(o.predictions_path);
  };
  std::thread other(run, 1);
  run(0);
  other.join();
  EXPECT_EQ(runs[0].metrics, runs[1].metrics);  // every process gets the whole set's metrics
  return runs[0];
}

// Each process filled the rows of its own batches only (the row lengths sent
// first), and together they filled every row once.
void expect_rows_shared_out(const TwoProcessSum& summer, std::size_t rows) {
  ASSERT_FALSE(summer.sent(0).empty());
  ASSERT_FALSE(summer.sent(1).empty());
  const auto &a = summer.sent(0).front(), &b = summer.sent(1).front();
  ASSERT_EQ(a.size(), rows);
  ASSERT_EQ(b.size(), rows);
  std::size_t mine[2] = {0, 0};
  for (std::size_t i = 0; i < rows; ++i) {
    EXPECT_NE(a[i] > 0, b[i] > 0) << "row " << i << " filled by " << (a[i] > 0 ? "both" : "neither");
    mine[0] += a[i] > 0, mine[1] += b[i] > 0;
  }
  EXPECT_GT(mine[0], 0u);
  EXPECT_GT(mine[1], 0u);
}

// One process, then two sharing the batches out, on the same model (batch 8).
struct OneAndTwo {
  EvalRun one, two;
};
OneAndTwo evaluate_as_one_and_two(Task& task, TwoProcessSum& summer) {
  auto model = small_model(task, task.architecture());
  EvalRun one = evaluate_with(task, *model, 8);
  return {one, evaluate_as_two_processes(task, *model, summer)};
}

// The same predictions, compared under `fields`, and exactly the same `metrics`.
void expect_same_results(const OneAndTwo& r, std::initializer_list<const char*> fields,
                         std::initializer_list<const char*> metrics) {
  ASSERT_EQ(r.two.predictions.size(), r.one.predictions.size());
  for (std::size_t i = 0; i < r.one.predictions.size(); ++i)
    for (const char* f : fields) EXPECT_EQ(r.two.predictions[i][f], r.one.predictions[i][f]) << f << " " << i;
  for (const char* k : metrics) EXPECT_EQ(r.two.metrics.at(k), r.one.metrics.at(k)) << k;
}

TEST(SortedEval, TwoProcessesShareOutClassificationBatches) {
  BERTKIT_NEED_SHARED("data/glue/SST-2/dev.tsv");
  auto task = sst2_head_task();
  TwoProcessSum summer;
  OneAndTwo r = evaluate_as_one_and_two(*task, summer);
  expect_rows_shared_out(summer, 40);
  ASSERT_EQ(r.one.predictions.size(), 40u);
  expect_same_results(r, {"prediction", "score"}, {"accuracy", "f1", "mcc"});
  EXPECT_NEAR(r.two.metrics.at("loss"), r.one.metrics.at("loss"), 1e-6);
}

TEST(SortedEval, TwoProcessesShareOutNerBatches) {
  BERTKIT_NEED_SHARED("data/conll2003/valid.txt");
  auto task = conll_head_task();
  TwoProcessSum summer;
  OneAndTwo r = evaluate_as_one_and_two(*task, summer);
  ASSERT_GT(r.one.predictions.size(), 10u);
  expect_same_results(r, {"predictions"}, {"f1", "precision", "recall", "accuracy"});
  EXPECT_NEAR(r.two.metrics.at("loss"), r.one.metrics.at("loss"), 1e-6);
}

TEST(SortedEval, TwoProcessesShareOutQaFeatures) {
  BERTKIT_NEED_SHARED("data/squad/dev-v1.1.part1.json");
  auto task = squad_head_task();
  TwoProcessSum summer;
  OneAndTwo r = evaluate_as_one_and_two(*task, summer);
  ASSERT_GT(r.one.predictions.size(), 10u);
  expect_same_results(r, {"id", "prediction_text"}, {"exact", "f1", "total"});
}

}  // namespace
}  // namespace bertkit::test
