// End to end: `bertkit prepare` on real text, pretraining with the shipped tiny
// config until the MLM loss falls, export, load back with identical outputs.
// (Several processes: distributed_e2e_test.cc.)
#include <cmath>
#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/tasks/registry.h"
#include "bertkit/training/run_config.h"
#include "bertkit/training/trainer.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit;
using json::Json;

namespace {
const char* kVocab = "data/bert-vocab/bert-base-uncased-vocab.txt";

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
  register_builtin_tasks();
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
