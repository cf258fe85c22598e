// Faults during training, in the process (the kill, signal and full-disk tests
// run the binary: tests/e2e/faults_e2e_test.cc): a damaged newest checkpoint is
// found by its checksums and the previous one resumed; a non-finite loss stops
// the run naming the step and the last good checkpoint, or skips the step.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/nn/tensor_io.h"
#include "bertkit/tasks/registry.h"
#include "bertkit/training/run_config.h"
#include "bertkit/training/trainer.h"
#include "test_util.h"
#include "tiny_shards.h"

namespace fs = std::filesystem;
using namespace bertkit;
using json::Json;

namespace {

// The pretraining task lives in the tasks layer, registered by the explicit call.
const bool kTasksRegistered = (register_builtin_tasks(), true);

const char* const kVocab = test::kTinyVocab;

// 6 steps of a 2-layer, 32-wide model; a checkpoint every 2 steps, 2 kept.
RunConfig tiny_run(const std::string& out) {
  Json j = Json::parse(R"({
    "model": {"config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                         "intermediate_size": 64, "max_position_embeddings": 64}},
    "task": {"type": "pretraining"},
    "train": {"learning_rate": 1e-3, "max_steps": 6, "batch_size": 8, "num_threads": 1, "device": "cpu"},
    "eval": {"per_epoch": false, "at_end": false},
    "logging": {"every_steps": 1, "progress": false, "tensorboard": false},
    "checkpoint": {"every_steps": 2, "keep_last": 2}
  })");
  j["tokenizer"] = {{"path", test::shared_path(kVocab)}};
  j["data"] = {{"shards", test::tiny_pretraining_shards()}};
  j["output"] = {{"dir", out}};
  return RunConfig::from_json(j);
}

// BERTKIT_FAULT for one scope.
struct FaultEnv {
  explicit FaultEnv(const std::string& spec) { ::setenv("BERTKIT_FAULT", spec.c_str(), 1); }
  ~FaultEnv() { ::unsetenv("BERTKIT_FAULT"); }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

void flip_byte(const std::string& path, std::streamoff at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  const char c = static_cast<char>(f.get());
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x10));
}

std::string model_bytes(const std::string& dir) { return read_file(dir + "/model.safetensors"); }

}  // namespace

// The newest checkpoint damaged (one flipped byte, or a cut file): --resume
// says which file, sets it aside and continues from the one before it to the
// weights of an uninterrupted run.
TEST(Faults, DamagedNewestCheckpointIsFoundAndThePreviousResumed) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  const std::string root = test::make_temp_dir("bertkit-faults");
  Trainer(tiny_run(root + "/full")).train();
  const std::string expected = model_bytes(root + "/full/model");
  struct Damage {
    const char* file;
    bool truncate;
  };
  for (const Damage& d : {Damage{"model.safetensors", false}, Damage{"optimizer.safetensors", true}}) {
    SCOPED_TRACE(d.file);
    const std::string out = root + "/" + d.file;
    TrainOptions stop;
    stop.stop_after_steps = 4;
    Trainer(tiny_run(out), stop).train();
    ASSERT_EQ(list_checkpoints(out).size(), 2u);  // checkpoint-2, checkpoint-4
    const std::string damaged = out + "/checkpoint-4/" + d.file;
    const auto size = static_cast<std::streamoff>(fs::file_size(damaged));
    if (d.truncate) fs::resize_file(damaged, static_cast<std::uintmax_t>(size - 100));
    else flip_byte(damaged, size / 2);
    TrainOptions resume;
    resume.resume = true;
    testing::internal::CaptureStderr();
    TrainResult r = Trainer(tiny_run(out), resume).train();
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find(damaged + ": "), std::string::npos) << err;
    EXPECT_NE(err.find(d.truncate ? "truncated" : "corrupted"), std::string::npos) << err;
    EXPECT_NE(err.find("resume: " + out + "/checkpoint-2 (step 2"), std::string::npos) << err;
    EXPECT_EQ(r.step_loss.begin()->first, 3);
    EXPECT_TRUE(fs::exists(out + "/checkpoint-4.damaged/" + d.file));  // kept for inspection
    EXPECT_EQ(model_bytes(out + "/model"), expected);
  }
  fs::remove_all(root);
}

TEST(Faults, EveryCheckpointDamagedIsAnErrorNotAFreshStart) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  const std::string root = test::make_temp_dir("bertkit-faults");
  TrainOptions stop;
  stop.stop_after_steps = 2;
  Trainer(tiny_run(root + "/run"), stop).train();
  fs::resize_file(root + "/run/checkpoint-2/model.safetensors", 10);
  TrainOptions resume;
  resume.resume = true;
  const std::string err = error_of([&] { Trainer(tiny_run(root + "/run"), resume); });
  EXPECT_NE(err.find("every checkpoint-* is damaged"), std::string::npos) << err;
  resume.resume = false;
  resume.resume_from = root + "/run/checkpoint-2";
  const std::string err2 = error_of([&] { Trainer(tiny_run(root + "/run"), resume); });
  EXPECT_NE(err2.find("checkpoint-2/model.safetensors: 10 bytes"), std::string::npos) << err2;
  fs::remove_all(root);
}

// nan_policy "stop": the run ends at the next read of the losses (at the latest
// before the next checkpoint), naming the step and the last good checkpoint;
// no checkpoint holds the damaged weights.
TEST(Faults, NonFiniteLossStopsNamingStepAndLastGoodCheckpoint) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  const std::string root = test::make_temp_dir("bertkit-faults");
  for (const char* kind : {"nan", "inf"}) {
    SCOPED_TRACE(kind);
    const std::string out = root + "/" + kind;
    RunConfig c = tiny_run(out);
    c.logging.every_steps = 10;  // the losses are read at the checkpoint of step 4
    FaultEnv fault(std::string("train.") + kind + "_loss#3");
    const std::string err = error_of([&] { Trainer(c).train(); });
    EXPECT_NE(err.find(std::string("step 3: the training loss is ") + kind + " (fp32)"), std::string::npos) << err;
    EXPECT_NE(err.find("The last good checkpoint is " + out + "/checkpoint-2"), std::string::npos) << err;
    auto cps = list_checkpoints(out);
    ASSERT_EQ(cps.size(), 1u);
    EXPECT_EQ(fs::path(cps[0]).filename(), "checkpoint-2");
  }
  fs::remove_all(root);
}

// nan_policy "skip": the step with the non-finite loss changes no weight (as
// fp16's scaler skips an overflow) and the run goes on with finite losses.
TEST(Faults, NonFiniteLossSkipsTheStepWhenAsked) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED("data/corpus/gutenberg/pg11.txt");
  const std::string root = test::make_temp_dir("bertkit-faults");
  RunConfig c = tiny_run(root + "/run");
  c.train.nan_policy = "skip";
  c.checkpoint.every_steps = 1;
  c.checkpoint.keep_last = 0;
  FaultEnv fault("train.nan_loss#3");
  TrainResult r = Trainer(c).train();
  EXPECT_EQ(r.global_step, 6);
  EXPECT_EQ(r.skipped_steps, 1);
  EXPECT_TRUE(std::isnan(r.step_loss.at(3)));
  for (int step : {1, 2, 4, 5, 6}) EXPECT_TRUE(std::isfinite(r.step_loss.at(step))) << step;
  // Step 3 left the weights as step 2 did; step 4 changed them.
  EXPECT_EQ(model_bytes(root + "/run/checkpoint-3"), model_bytes(root + "/run/checkpoint-2"));
  EXPECT_NE(model_bytes(root + "/run/checkpoint-4"), model_bytes(root + "/run/checkpoint-3"));
  for (const auto& [name, t] : load_safetensors(root + "/run/model/model.safetensors"))
    EXPECT_TRUE(t.isfinite().all().item<bool>()) << name;
  EXPECT_EQ(json::load_file(root + "/run/checkpoint-6/trainer_state.json")["skipped_steps"], 1);
  fs::remove_all(root);
}

TEST(Faults, NanPolicyIsCheckedInTheConfig) {
  Json j = Json::parse(R"({"model": {"config": {}}, "tokenizer": {"path": "vocab.txt"}, "task": {"type": "pretraining"},
                           "data": {"shards": "x"}, "train": {"nan_policy": "ignore"}, "output": {"dir": "out"}})");
  const std::string err = error_of([&] { RunConfig::from_json(j); });
  EXPECT_NE(err.find("train.nan_policy"), std::string::npos) << err;
}
