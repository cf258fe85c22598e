// The run config and the trainer (with the pretraining task): key-path errors,
// --set, exact resume, outputs.
#include <filesystem>
#include <cmath>
#include <fstream>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/nn/torch_compat.h"
#include "bertkit/tasks/registry.h"
#include "bertkit/training/run_config.h"
#include "bertkit/training/tensorboard.h"
#include "bertkit/training/trainer.h"
#include "test_util.h"
#include "tiny_shards.h"

namespace fs = std::filesystem;
using namespace bertkit;
using json::Json;

namespace {

// The pretraining task lives in the tasks layer, registered by the explicit call.
const bool kTasksRegistered = (register_builtin_tasks(), true);

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

Json minimal_config() {
  return Json::parse(R"({
    "model": {"config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                         "intermediate_size": 64, "max_position_embeddings": 64}},
    "tokenizer": {"path": "vocab.txt"},
    "task": {"type": "pretraining"},
    "data": {"shards": "x"},
    "train": {"learning_rate": 1e-3, "max_steps": 6, "batch_size": 8},
    "output": {"dir": "out"}
  })");
}

RunConfig tiny_run(const std::string& out) {
  Json j = minimal_config();
  j["tokenizer"]["path"] = test::shared_path(test::kTinyVocab);
  j["data"]["shards"] = test::tiny_pretraining_shards();
  j["output"]["dir"] = out;
  j["logging"] = {{"every_steps", 1}, {"progress", false}};
  j["eval"] = {{"per_epoch", false}, {"at_end", false}};
  j["checkpoint"] = {{"keep_last", 1}};
  j["train"]["num_threads"] = 1;
  // The CPU's semantics (bit-exact resume, fp16 refused) are what these tests
  // assert: "auto" would pick CUDA on a GPU machine.
  j["train"]["device"] = "cpu";
  return RunConfig::from_json(j);
}

}  // namespace

TEST(RunConfig, ErrorsNameTheKeyPath) {
  Json j = minimal_config();
  j["train"]["learning_rate"] = "abc";
  EXPECT_EQ(error_of([&] { RunConfig::from_json(j); }), "train.learning_rate: expected a number, got \"abc\"");
  j = minimal_config();
  j["train"]["lr"] = 0.1;
  std::string msg = error_of([&] { RunConfig::from_json(j); });
  EXPECT_EQ(msg.rfind("train: unknown key \"lr\" (valid keys: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("learning_rate"), std::string::npos);
  j = minimal_config();
  j["train"]["precision"] = "fp8";
  EXPECT_EQ(error_of([&] { RunConfig::from_json(j); }),
            "train.precision: expected one of fp32, bf16, fp16, got \"fp8\"");
  j = minimal_config();
  j["optimiser"] = {};
  EXPECT_NE(error_of([&] { RunConfig::from_json(j); }).find("(top level): unknown key \"optimiser\""), std::string::npos);
  j = minimal_config();
  j["output"].erase("dir");
  EXPECT_EQ(error_of([&] { RunConfig::from_json(j); }), "output.dir: required key missing");
  j = minimal_config();
  j["train"]["batch_size"] = 0;
  EXPECT_NE(error_of([&] { RunConfig::from_json(j); }).find("train.batch_size"), std::string::npos);
}

TEST(RunConfig, SetOverridesAndResolvedRoundTrip) {
  std::string dir = test::make_temp_dir();
  json::save_file(dir + "/run.json", minimal_config());
  RunConfig c = RunConfig::load(dir + "/run.json", {"train.learning_rate=3e-5", "train.optimizer=lamb",
                                                    "eval.every_steps=50", "task.whole_word_masking=true"});
  EXPECT_DOUBLE_EQ(c.train.learning_rate, 3e-5);
  EXPECT_EQ(c.train.optimizer, "lamb");
  EXPECT_EQ(c.eval.every_steps, 50);
  EXPECT_EQ(c.task_type, "pretraining");
  EXPECT_EQ(c.task["whole_word_masking"], true);
  EXPECT_FALSE(c.task.contains("type"));
  // The resolved config parses back to the same thing.
  RunConfig back = RunConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  // Errors through load name the file too.
  std::string msg = error_of([&] { RunConfig::load(dir + "/run.json", {"train.max_steps=many"}); });
  EXPECT_NE(msg.find("expected a number"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(Trainer, TaskSectionUnknownKeyNamesPath) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  std::string out = test::make_temp_dir() + "/run";
  RunConfig c = tiny_run(out);
  c.task["mlm_prob"] = 0.2;
  std::string msg = error_of([&] { Trainer t(c); });
  EXPECT_EQ(msg.rfind("task: unknown key \"mlm_prob\"", 0), 0u) << msg;
  c = tiny_run(out);
  c.task_type = "pretrainin";
  EXPECT_NE(error_of([&] { Trainer t(c); }).find("task.type: unknown task \"pretrainin\""), std::string::npos);
  c = tiny_run(out);
  c.train.precision = "fp16";
  EXPECT_NE(error_of([&] { Trainer t(c); }).find("fp16 needs a CUDA device"), std::string::npos);
}

TEST(Trainer, Bf16OnCpuWhereLibTorchSupportsIt) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  std::string root = test::make_temp_dir();
  RunConfig c = tiny_run(root + "/run");
  c.train.precision = "bf16";
  c.train.device = "cpu";
  c.train.max_steps = 2;
#if BERTKIT_TORCH_AT_LEAST(2, 0)
  TrainResult r = Trainer(c).train();
  ASSERT_EQ(r.step_loss.size(), 2u);
  EXPECT_TRUE(std::isfinite(r.step_loss.at(2)));
  EXPECT_GT(r.step_loss.at(2), 5.0);  // ~ln(30522) at the start, not a collapsed value
#else
  EXPECT_NE(error_of([&] { Trainer t(c); }).find("bf16 on CPU needs LibTorch >= 2.0"), std::string::npos);
#endif
  fs::remove_all(root);
}

TEST(Trainer, ResumeIsBitExact) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  std::string root = test::make_temp_dir();
  // Uninterrupted: 4 steps (dropout on, warmup + linear decay, accumulation).
  RunConfig full = tiny_run(root + "/full");
  full.train.max_steps = 4;
  full.train.warmup_steps = 2;
  full.train.gradient_accumulation_steps = 2;
  TrainResult a = Trainer(full).train();
  ASSERT_EQ(a.global_step, 4);
  // Interrupted after 2 steps, then resumed.
  RunConfig part = full;
  part.output.dir = root + "/part";
  TrainOptions stop;
  stop.stop_after_steps = 2;
  TrainResult b1 = Trainer(part, stop).train();
  EXPECT_TRUE(b1.interrupted);
  EXPECT_EQ(b1.global_step, 2);
  EXPECT_FALSE(fs::exists(root + "/part/model"));
  ASSERT_EQ(list_checkpoints(root + "/part").size(), 1u);
  TrainOptions resume;
  resume.resume = true;
  TrainResult b2 = Trainer(part, resume).train();
  EXPECT_EQ(b2.global_step, 4);
  EXPECT_EQ(b2.step_loss.begin()->first, 3);  // nothing replayed
  for (int step : {3, 4}) {
    ASSERT_TRUE(b2.step_loss.count(step));
    EXPECT_EQ(a.step_loss.at(step), b2.step_loss.at(step)) << "step " << step;  // bit for bit
  }
  EXPECT_EQ(a.step_loss.at(1), b1.step_loss.at(1));
  EXPECT_NE(a.step_loss.at(1), a.step_loss.at(4));
  // The exported weights are identical bytes.
  EXPECT_EQ(read_file(root + "/full/model/model.safetensors"), read_file(root + "/part/model/model.safetensors"));
  // metrics.jsonl holds each step once.
  std::ifstream f(root + "/part/metrics.jsonl");
  int lines = 0;
  for (std::string l; std::getline(f, l);) lines += Json::parse(l).contains("loss");
  EXPECT_EQ(lines, 4);
  fs::remove_all(root);
}

TEST(Trainer, OutputsCheckpointsAndTensorBoard) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  std::string root = test::make_temp_dir();
  RunConfig c = tiny_run(root + "/run");
  c.train.max_steps = 4;
  c.checkpoint.every_steps = 1;
  c.checkpoint.keep_last = 2;
  c.eval.every_steps = 2;
  c.eval.max_batches = 2;
  c.train.optimizer = "lamb";
  c.train.lr_scheduler = "cosine";
  TrainResult r = Trainer(c).train();
  EXPECT_EQ(r.global_step, 4);
  // keep_last 2 of checkpoint-1 .. -4.
  auto cps = list_checkpoints(root + "/run");
  ASSERT_EQ(cps.size(), 2u);
  EXPECT_EQ(fs::path(cps[0]).filename(), "checkpoint-3");
  for (const char* f : {"config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json", "vocab.txt"})
    EXPECT_TRUE(fs::exists(cps[1] + "/" + f)) << f;
  auto st = json::load_file(cps[1] + "/trainer_state.json");
  EXPECT_EQ(st["global_step"], 4);
  EXPECT_TRUE(st.contains("best_metric"));
  // Evaluation metrics of the pretraining task.
  for (const char* k : {"loss", "mlm_loss", "mlm_accuracy", "nsp_accuracy", "perplexity"})
    EXPECT_TRUE(r.last_eval.count(k)) << k;
  EXPECT_TRUE(fs::exists(root + "/run/model/config.json"));
  EXPECT_TRUE(fs::exists(root + "/run/model/vocab.txt"));
  EXPECT_TRUE(fs::exists(root + "/run/run_config.json"));
  // The resolved config records the task's defaults.
  auto resolved = json::load_file(root + "/run/run_config.json");
  EXPECT_DOUBLE_EQ(resolved["task"]["mlm_probability"].get<double>(), 0.15);
  // TensorBoard: the loss of every step and the eval scalars.
  std::string tb;
  for (auto& e : fs::directory_iterator(root + "/run/tensorboard")) tb = e.path().string();
  auto events = read_tensorboard_events(tb);
  int losses = 0, evals = 0;
  for (const auto& ev : events)
    for (const auto& [tag, v] : ev.scalars) {
      losses += tag == "train/loss";
      evals += tag == "eval/mlm_accuracy";
    }
  EXPECT_EQ(losses, 4);
  EXPECT_EQ(evals, 2);
  // A second run into the same dir without --resume is refused.
  EXPECT_NE(error_of([&] { Trainer t(c); }).find("exists and is not empty"), std::string::npos);
  fs::remove_all(root);
}

// Same seed and thread count: the same run, bit for bit, also with several
// intra-op threads (the quickstart trains on 2). A different thread count may
// round differently (LibTorch's parallel reductions); the same count must not.
// output.overwrite lets a new run use an earlier run's folder: its metrics.jsonl must
// hold the new run's lines only (they were appended after the old run's).
TEST(Trainer, OverwrittenOutputDirStartsAFreshLog) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  std::string root = test::make_temp_dir();
  for (int64_t steps : {3, 2}) {
    RunConfig c = tiny_run(root + "/run");
    c.train.max_steps = steps;
    c.output.overwrite = true;
    Trainer(c).train();
  }
  std::ifstream f(root + "/run/metrics.jsonl");
  std::vector<int64_t> logged_steps;
  for (std::string l; std::getline(f, l);)
    if (Json::parse(l).contains("loss")) logged_steps.push_back(Json::parse(l).at("step").get<int64_t>());
  EXPECT_EQ(logged_steps, (std::vector<int64_t>{1, 2}));
  fs::remove_all(root);
}

TEST(Trainer, SameSeedAndThreadsGiveBitIdenticalRuns) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  const int threads_before = torch::get_num_threads();
  std::string root = test::make_temp_dir();
  std::vector<TrainResult> runs;
  for (const char* name : {"/a", "/b"}) {
    RunConfig c = tiny_run(root + name);
    c.train.max_steps = 4;
    c.train.num_threads = 2;
    runs.push_back(Trainer(c).train());
  }
  torch::set_num_threads(threads_before);
  ASSERT_EQ(runs[0].step_loss.size(), 4u);
  ASSERT_EQ(runs[1].step_loss.size(), 4u);
  for (int step = 1; step <= 4; ++step) EXPECT_EQ(runs[0].step_loss.at(step), runs[1].step_loss.at(step)) << "step " << step;
  EXPECT_NE(runs[0].step_loss.at(1), runs[0].step_loss.at(4));  // it did train
  EXPECT_EQ(read_file(root + "/a/model/model.safetensors"), read_file(root + "/b/model/model.safetensors"));
  fs::remove_all(root);
}

// The prefetching loader changes when batches are made, never which: 0, 1 and
// 3 workers give the same losses and weights (accumulation and an epoch
// boundary included: 150 documents make few micro-batches of 8).
TEST(Trainer, SameRunForAnyDataloaderWorkerCount) {
  BERTKIT_NEED_SHARED("data/bert-vocab/bert-base-uncased-vocab.txt");
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  std::string root = test::make_temp_dir();
  std::vector<TrainResult> runs;
  for (int workers : {0, 1, 3}) {
    RunConfig c = tiny_run(root + "/w" + std::to_string(workers));
    c.train.max_steps = 5;
    c.train.gradient_accumulation_steps = 2;
    c.train.dataloader_workers = workers;
    runs.push_back(Trainer(c).train());
  }
  for (std::size_t r = 1; r < runs.size(); ++r) {
    ASSERT_EQ(runs[r].step_loss.size(), 5u);
    for (int step = 1; step <= 5; ++step) EXPECT_EQ(runs[0].step_loss.at(step), runs[r].step_loss.at(step)) << r << " " << step;
  }
  EXPECT_EQ(read_file(root + "/w0/model/model.safetensors"), read_file(root + "/w1/model/model.safetensors"));
  EXPECT_EQ(read_file(root + "/w0/model/model.safetensors"), read_file(root + "/w3/model/model.safetensors"));
  fs::remove_all(root);
}
