// Data parallelism end to end with the bertkit binary: two Gloo processes on
// loopback give the losses and final weights of one process on the whole
// batch (with and without gradient accumulation, and as two "nodes" placed by
// NODE_RANK); a killed rank makes the other exit non-zero with a clear message
// in bounded time; torchrun's variables after a restart resume the run from
// its last checkpoint.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/nn/tensor_io.h"
#include "bertkit/training/distributed.h"
#include "bertkit/training/trainer.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit;
using json::Json;

namespace {

const char* kVocab = "data/bert-vocab/bert-base-uncased-vocab.txt";
const char* kText = "data/corpus/gutenberg/pg11.txt";

std::vector<Json> read_jsonl(const std::string& path) {
  std::vector<Json> out;
  std::ifstream f(path);
  for (std::string l; std::getline(f, l);)
    if (!l.empty()) out.push_back(Json::parse(l));
  return out;
}

int free_port() {
  static int offset = 0;
  return 30000 + (::getpid() % 3000) * 3 + offset++;
}

// Packed 32-token segments and a 2-layer model without dropout: each sequence
// has exactly max_predictions_per_seq masked tokens, so the mean loss of 2 x 4
// sequences averaged over processes is the mean loss of the 8 together. With
// `held_out`, a tenth of the documents is held out and evaluated at the end in
// batches of 8, which several processes share out between them.
std::string prepare_run(const std::string& root, int64_t max_steps, bool held_out = false) {
  std::string log;
  const std::string vocab = test::shared_path(kVocab);
  EXPECT_EQ(test::run_command(test::bertkit_binary() + " prepare " + test::shared_path(kText) + " -o " + root +
                                  "/packed -t " + vocab + " --max-seq-length 32 --no-nsp --max-documents 200 -q" +
                                  (held_out ? " --eval-fraction 0.1" : ""),
                              &log),
            0)
      << log;
  Json cfg = Json::parse(R"({
    "model": {"config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
              "max_position_embeddings": 64, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}},
    "task": {"type": "mlm", "max_predictions_per_seq": 4},
    "train": {"learning_rate": 1e-3, "batch_size": 8, "num_threads": 1, "device": "cpu",
              "distributed": {"backend": "gloo", "timeout_seconds": 20}},
    "eval": {"at_end": false, "per_epoch": false, "batch_size": 8}, "logging": {"every_steps": 1, "progress": false},
    "checkpoint": {"at_end": false}})");
  cfg["train"]["max_steps"] = max_steps;
  cfg["tokenizer"]["path"] = vocab;
  cfg["data"]["shards"] = root + "/packed";
  cfg["eval"]["at_end"] = held_out;
  json::save_file(root + "/run.json", cfg);
  return root + "/run.json";
}

// Runs the shell commands side by side (each under `timeout`); their exit codes.
std::vector<int> run_side_by_side(const std::vector<std::string>& cmds, const std::string& root) {
  std::string script;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    const std::string n = std::to_string(i);
    script += "(timeout 180 " + cmds[i] + " > " + root + "/rank" + n + ".log 2>&1; echo $? > " + root + "/rc" + n + ") & ";
  }
  script += "wait";
  test::run_command("bash -c '" + script + "'");
  std::vector<int> rcs;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    const std::string f = root + "/rc" + std::to_string(i);
    rcs.push_back(test::path_exists(f) ? std::stoi(read_file(f)) : -1);
  }
  return rcs;
}

std::string logs(const std::string& root, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "--- rank " + std::to_string(i) + ":\n" + read_file(root + "/rank" + std::to_string(i) + ".log");
  return s;
}

// Two processes of `args` with per-rank variables `env[r]`.
std::vector<int> two_processes(const std::string& root, const std::string& args, const std::string env[2]) {
  return run_side_by_side({"env " + env[0] + " " + test::bertkit_binary() + args,
                           "env " + env[1] + " " + test::bertkit_binary() + args},
                          root);
}

// The training losses of two runs agree step by step.
void expect_same_losses(const std::vector<Json>& one, const std::vector<Json>& two, const std::string& two_dir,
                        std::size_t steps) {
  for (std::size_t i = 0; i < steps; ++i) {
    const double a = one[i]["loss"].get<double>(), b = two[i]["loss"].get<double>();
    EXPECT_NEAR(b, a, 1e-6 * std::fabs(a)) << two_dir << " step " << i + 1;
  }
}

// The training losses and the final weights of two runs agree.
void expect_same_run(const std::string& one_dir, const std::string& two_dir, std::size_t steps) {
  auto one = read_jsonl(one_dir + "/metrics.jsonl");
  auto two = read_jsonl(two_dir + "/metrics.jsonl");
  ASSERT_EQ(one.size(), steps);
  ASSERT_EQ(two.size(), steps);
  expect_same_losses(one, two, two_dir, steps);
  // Weights: 1e-6 relative, or 1e-6 absolute (1e-3 of one AdamW step at lr
  // 1e-3) where a gradient is a sum that cancels (attention key biases have a
  // zero gradient in exact arithmetic): there the rounding of a different
  // summation order is all Adam sees and it normalises it to a step.
  auto w1 = load_safetensors(one_dir + "/model/model.safetensors");
  auto w2 = load_safetensors(two_dir + "/model/model.safetensors");
  ASSERT_EQ(w1.size(), w2.size());
  for (const auto& [name, a] : w1) {
    ASSERT_TRUE(w2.count(name)) << name;
    const auto& b = w2.at(name);
    EXPECT_TRUE(torch::allclose(b, a, /*rtol=*/1e-6, /*atol=*/1e-6))
        << two_dir << ": " << name << " differs by " << (b - a).abs().max().item<double>();
  }
}

}  // namespace

TEST(DistributedE2E, TwoGlooProcessesMatchOneProcess) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED(kText);
  ASSERT_TRUE(distributed_available()) << "built without c10d/Gloo: install libgloo-dev (scripts/setup.sh) and rebuild";
  const std::string root = test::make_temp_dir("bertkit-dist");
  const std::string run = prepare_run(root, 4);
  const std::string bin = test::bertkit_binary();
  std::string log;
  // One process: 8 sequences per step, in one batch or in 2 micro-batches of 4.
  ASSERT_EQ(test::run_command(bin + " train " + run + " -o " + root + "/one", &log), 0) << log;
  ASSERT_EQ(test::run_command(bin + " train " + run + " -o " + root + "/one_acc --set train.batch_size=4 "
                                  "--set train.gradient_accumulation_steps=2", &log), 0) << log;

  const std::string addr = "MASTER_ADDR=127.0.0.1 MASTER_PORT=";
  {  // torchrun-style ranks on one machine: 2 x 4 sequences
    const std::string p = std::to_string(free_port());
    const std::string env[2] = {"WORLD_SIZE=2 RANK=0 LOCAL_RANK=0 LOCAL_WORLD_SIZE=2 " + addr + p,
                                "WORLD_SIZE=2 RANK=1 LOCAL_RANK=1 LOCAL_WORLD_SIZE=2 " + addr + p};
    auto rcs = two_processes(root, " train " + run + " -o " + root + "/two --set train.batch_size=4", env);
    ASSERT_EQ(rcs, (std::vector<int>{0, 0})) << logs(root, 2);
    expect_same_run(root + "/one", root + "/two", 4);
  }
  {  // with accumulation: 2 processes x 2 micro-batches x 2 sequences
    const std::string p = std::to_string(free_port());
    const std::string env[2] = {"WORLD_SIZE=2 RANK=0 LOCAL_RANK=0 " + addr + p, "WORLD_SIZE=2 RANK=1 LOCAL_RANK=1 " + addr + p};
    auto rcs = two_processes(root, " train " + run + " -o " + root + "/two_acc --set train.batch_size=2 "
                                   "--set train.gradient_accumulation_steps=2", env);
    ASSERT_EQ(rcs, (std::vector<int>{0, 0})) << logs(root, 2);
    expect_same_run(root + "/one_acc", root + "/two_acc", 4);
  }
  {  // two "nodes" of one process each: NODE_RANK places them, both are LOCAL_RANK 0
    const std::string p = std::to_string(free_port());
    const std::string env[2] = {"WORLD_SIZE=2 NODE_RANK=0 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 " + addr + p,
                                "WORLD_SIZE=2 NODE_RANK=1 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 " + addr + p};
    auto rcs = two_processes(root, " train " + run + " -o " + root + "/nodes --set train.batch_size=4", env);
    ASSERT_EQ(rcs, (std::vector<int>{0, 0})) << logs(root, 2);
    expect_same_run(root + "/one", root + "/nodes", 4);
  }
  {  // the evaluation at the end: each process runs its share of the batches, all get the whole set's metrics
    const std::string held = root + "/held";
    const std::string run_held = prepare_run(held, 4, /*held_out=*/true);
    ASSERT_EQ(test::run_command(bin + " train " + run_held + " -o " + held + "/one", &log), 0) << log;
    const std::string p = std::to_string(free_port());
    const std::string env[2] = {"WORLD_SIZE=2 RANK=0 LOCAL_RANK=0 " + addr + p, "WORLD_SIZE=2 RANK=1 LOCAL_RANK=1 " + addr + p};
    auto rcs = two_processes(held, " train " + run_held + " -o " + held + "/two --set train.batch_size=4", env);
    ASSERT_EQ(rcs, (std::vector<int>{0, 0})) << logs(held, 2);
    auto one = read_jsonl(held + "/one/metrics.jsonl"), two = read_jsonl(held + "/two/metrics.jsonl");
    ASSERT_EQ(one.size(), 5u);  // 4 steps and the evaluation
    ASSERT_EQ(two.size(), 5u);
    expect_same_losses(one, two, held + "/two", 4);
    for (const char* key : {"eval_loss", "eval_mlm_accuracy", "eval_perplexity"}) {
      ASSERT_TRUE(one[4].contains(key) && two[4].contains(key)) << one[4].dump() << "\n" << two[4].dump();
      const double a = one[4][key].get<double>(), b = two[4][key].get<double>();
      EXPECT_NEAR(b, a, 1e-6 * std::fabs(a)) << key;
    }
  }
  // The build says it has Gloo.
  ASSERT_EQ(test::run_command(bin + " --version", &log), 0) << log;
  EXPECT_NE(log.find("data parallel: gloo"), std::string::npos) << log;
  ASSERT_EQ(test::run_command(bin + " info", &log), 0) << log;
  EXPECT_NE(log.find("data parallel:  gloo"), std::string::npos) << log;
  // Rank 1 writes no outputs of its own; rank 0 exported the model.
  EXPECT_TRUE(fs::exists(root + "/two/model/model.safetensors"));
  fs::remove_all(root);
}

TEST(DistributedE2E, KilledRankStopsTheOtherAndTorchrunsRestartResumes) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED(kText);
  ASSERT_TRUE(distributed_available()) << "built without c10d/Gloo: install libgloo-dev (scripts/setup.sh) and rebuild";
  const std::string root = test::make_temp_dir("bertkit-dist-kill");
  const std::string run = prepare_run(root, 100000);
  const std::string bin = test::bertkit_binary();
  const std::string out = root + "/run";
  const std::string args = " train " + run + " -o " + out + " --set train.batch_size=4 --set checkpoint.every_steps=2";
  const std::string p = std::to_string(free_port());
  const std::string base = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + p;
  // Kill rank 1 once rank 0 logged 3 steps; time rank 0 from the kill to its exit.
  const std::string script =
      "(env " + base + " RANK=0 LOCAL_RANK=0 timeout 120 " + bin + args + " > " + root + "/rank0.log 2>&1; echo $? > " +
      root + "/rc0) & env " + base + " RANK=1 LOCAL_RANK=1 " + bin + args + " > " + root + "/rank1.log 2>&1 & p1=$!; " +
      "for i in $(seq 1200); do [ \"$(cat " + out + "/metrics.jsonl 2>/dev/null | wc -l)\" -ge 3 ] && break; sleep 0.1; done; " +
      "kill -9 $p1; t0=$(date +%s%N); while [ ! -s " + root + "/rc0 ]; do sleep 0.05; done; " +
      "echo $(( ($(date +%s%N) - t0) / 1000000 )) > " + root + "/ms; wait";
  test::run_command("bash -c '" + script + "'");
  ASSERT_TRUE(test::path_exists(root + "/rc0")) << logs(root, 2);
  const int rc0 = std::stoi(read_file(root + "/rc0"));
  const long ms = std::stol(read_file(root + "/ms"));
  const std::string log0 = read_file(root + "/rank0.log");
  EXPECT_EQ(rc0, 1) << log0;  // a runtime failure, not the 124 of `timeout`
  EXPECT_LT(ms, 30000) << "rank 0 took " << ms << " ms to stop";
  EXPECT_NE(log0.find("error: distributed: rank 0 of 2 stopped"), std::string::npos) << log0;
  EXPECT_NE(log0.find("--resume"), std::string::npos) << log0;

  // torchrun restarts both workers (TORCHELASTIC_RESTART_COUNT=1) with its full
  // set of variables: the run continues from its newest checkpoint by itself.
  auto cps = list_checkpoints(out);
  ASSERT_FALSE(cps.empty()) << log0;
  const int64_t last = std::stoll(fs::path(cps.back()).filename().string().substr(11));
  const std::string p2 = std::to_string(free_port());
  const std::string torchrun = "WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 GROUP_RANK=0 GROUP_WORLD_SIZE=1 ROLE_NAME=default "
                               "ROLE_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + p2 +
                               " TORCHELASTIC_RUN_ID=e2e TORCHELASTIC_RESTART_COUNT=1 TORCHELASTIC_MAX_RESTARTS=3 "
                               "TORCHELASTIC_USE_AGENT_STORE=False TORCHELASTIC_ERROR_FILE=" + root + "/error.json "
                               "TORCH_NCCL_ASYNC_ERROR_HANDLING=1 OMP_NUM_THREADS=1";
  const std::string env[2] = {torchrun + " RANK=0 LOCAL_RANK=0 ROLE_RANK=0", torchrun + " RANK=1 LOCAL_RANK=1 ROLE_RANK=1"};
  auto rcs = two_processes(root, args + " --set train.max_steps=" + std::to_string(last + 2), env);
  ASSERT_EQ(rcs, (std::vector<int>{0, 0})) << logs(root, 2);
  const std::string resumed = read_file(root + "/rank0.log");
  EXPECT_NE(resumed.find("resume: " + cps.back() + " (step " + std::to_string(last)), std::string::npos) << resumed;
  auto lines = read_jsonl(out + "/metrics.jsonl");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["step"].get<int64_t>(), last + 2);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i)  // no step twice
    EXPECT_LT(lines[i]["step"].get<int64_t>(), lines[i + 1]["step"].get<int64_t>());
  fs::remove_all(root);
}
