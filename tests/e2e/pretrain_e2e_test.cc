// End to end: `bertkit prepare` on real text, pretraining with the shipped tiny
// config until the MLM loss falls, export, load back with identical outputs;
// and two Gloo processes on loopback equal to one process on the whole batch.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/training/distributed.h"
#include "bertkit/training/run_config.h"
#include "bertkit/training/trainer.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit;
using json::Json;

namespace {
const char* kVocab = "data/bert-vocab/bert-base-uncased-vocab.txt";

std::vector<Json> read_jsonl(const std::string& path) {
  std::vector<Json> out;
  std::ifstream f(path);
  for (std::string l; std::getline(f, l);)
    if (!l.empty()) out.push_back(Json::parse(l));
  return out;
}
}  // namespace

TEST(PretrainE2E, LossFallsAndExportLoadsBackIdentically) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED("data/corpus/gutenberg");
  std::string root = test::make_temp_dir("bertkit-e2e");
  const std::string vocab = test::shared_path(kVocab);
  std::string log;
  int rc = test::run_command(test::bertkit_binary() + " prepare " + test::shared_path("data/corpus/gutenberg/pg11.txt") +
                                 " " + test::shared_path("data/corpus/gutenberg/pg1342.txt") + " -o " + root +
                                 "/shards -t " + vocab + " --max-seq-length 64 --eval-fraction 0.02 -q",
                             &log);
  ASSERT_EQ(rc, 0) << log;
  auto summary = json::load_file(root + "/shards/index.json")["summary"];
  EXPECT_GT(summary["tokens"].get<int64_t>(), 100000);

  Json cfg = json::load_file(test::source_dir() + "/configs/pretrain-tiny.json");
  json::apply_overrides(cfg, {"tokenizer.path=" + vocab, "data.shards=" + root + "/shards", "output.dir=" + root + "/run",
                              "train.max_steps=200", "train.batch_size=16", "train.num_threads=1",
                              "eval.every_steps=100", "checkpoint.every_steps=0", "logging.every_steps=1",
                              "logging.progress=false"});
  Trainer trainer(RunConfig::from_json(cfg));
  TrainResult r = trainer.train();
  ASSERT_EQ(r.global_step, 200);
  double first = 0, last = 0;
  for (int s = 1; s <= 10; ++s) first += r.step_loss.at(s) / 10;
  for (int s = 191; s <= 200; ++s) last += r.step_loss.at(s) / 10;
  std::cerr << "tiny pretraining: loss " << first << " -> " << last << " in " << r.seconds << " s\n";
  EXPECT_GT(first, 9.5);          // ~ln(30522) = 10.3 at the start
  EXPECT_LT(last, first - 2.5);   // far below
  ASSERT_TRUE(r.last_eval.count("mlm_accuracy"));
  EXPECT_GT(r.last_eval.at("mlm_accuracy"), 0.05);

  // The exported directory loads back with identical outputs.
  auto trained = trainer.model();
  trained->eval();
  auto loaded = load_pretrained(r.model_dir, LoadOptions{});
  loaded->eval();
  EXPECT_EQ(loaded->architecture(), Architecture::BertForPreTraining);
  Batch b;
  b.input_ids = torch::tensor({101, 1996, 103, 2003, 1037, 3899, 102, 2009, 2001, 103, 102}, torch::kLong).unsqueeze(0);
  b.token_type_ids = torch::tensor({0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, torch::kLong).unsqueeze(0);
  torch::NoGradGuard ng;
  auto x = trained->forward(b);
  auto y = loaded->forward(b);
  EXPECT_TRUE(torch::equal(x.logits, y.logits));
  EXPECT_TRUE(torch::equal(x.seq_relationship_logits, y.seq_relationship_logits));
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"})
    EXPECT_TRUE(fs::exists(r.model_dir + "/" + f)) << f;
  fs::remove_all(root);
}

TEST(PretrainE2E, TwoGlooProcessesMatchOneProcess) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  if (!distributed_available()) GTEST_SKIP() << "built without c10d/Gloo (install libgloo-dev and rebuild)";
  std::string root = test::make_temp_dir("bertkit-dist");
  const std::string bin = test::bertkit_binary();
  const std::string vocab = test::shared_path(kVocab);
  std::string log;
  ASSERT_EQ(test::run_command(bin + " prepare " + test::shared_path("data/corpus/gutenberg/pg11.txt") + " -o " + root +
                                  "/packed -t " + vocab + " --max-seq-length 32 --no-nsp --max-documents 200 -q",
                              &log),
            0)
      << log;
  // No dropout, packed full-length segments with the same number of masked
  // tokens each: the mean loss of 2 x 4 sequences averaged over processes is the
  // mean loss of the 8 together.
  Json cfg = Json::parse(R"({
    "model": {"config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
              "max_position_embeddings": 64, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}},
    "task": {"type": "mlm", "max_predictions_per_seq": 4},
    "train": {"learning_rate": 1e-3, "max_steps": 4, "batch_size": 8, "num_threads": 1, "device": "cpu"},
    "eval": {"at_end": false, "per_epoch": false}, "logging": {"every_steps": 1, "progress": false},
    "checkpoint": {"at_end": false}})");
  cfg["tokenizer"]["path"] = vocab;
  cfg["data"]["shards"] = root + "/packed";
  cfg["output"]["dir"] = root + "/one";
  json::save_file(root + "/run.json", cfg);
  ASSERT_EQ(test::run_command(bin + " train " + root + "/run.json", &log), 0) << log;
  const std::string env = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(29600 + ::getpid() % 300);
  const std::string args = " train " + root + "/run.json -o " + root + "/two --set train.batch_size=4";
  std::string cmd = "(" + env + " RANK=0 LOCAL_RANK=0 timeout 120 " + bin + args + " > " + root + "/r0.log 2>&1 & " + env +
                    " RANK=1 LOCAL_RANK=1 timeout 120 " + bin + args + " > " + root + "/r1.log 2>&1; r1=$?; wait $!; r0=$?; " +
                    "test $r0 -eq 0 -a $r1 -eq 0)";
  ASSERT_EQ(test::run_command(cmd, &log), 0) << read_file(root + "/r0.log") << read_file(root + "/r1.log");
  auto one = read_jsonl(root + "/one/metrics.jsonl");
  auto two = read_jsonl(root + "/two/metrics.jsonl");
  ASSERT_EQ(one.size(), 4u);
  ASSERT_EQ(two.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    double a = one[i]["loss"].get<double>(), b = two[i]["loss"].get<double>();
    EXPECT_NEAR(a, b, 1e-5 * std::fabs(a)) << "step " << i + 1;
    EXPECT_NEAR(one[i]["grad_norm"].get<double>(), two[i]["grad_norm"].get<double>(), 1e-4) << "step " << i + 1;
  }
  // Rank 1 writes no outputs of its own; rank 0 exported the model.
  EXPECT_TRUE(fs::exists(root + "/two/model/model.safetensors"));
  fs::remove_all(root);
}
