// Faults during training, on the binary (docs/training.md, "Faults and
// recovery"): SIGKILL at random moments and at named points of checkpoint
// writes and exports, then --resume reaches the weights of an uninterrupted
// run byte for byte; SIGTERM/SIGINT checkpoint at the next step boundary; a
// file size limit during a checkpoint is a clear error with the previous
// checkpoint intact. (In the process: tests/training/faults_test.cc.)
//
// BERTKIT_KILL_TRIALS (random-moment trials, default 6; export: half, at least
// 3) and BERTKIT_KILL_SEED choose how many kill trials run and where: `BERTKIT_KILL_TRIALS=200 build/tests/test_e2e
// --gtest_filter='FaultsE2E.Killed*'` runs many more.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bertkit/core/checksums.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/training/trainer.h"
#include "test_util.h"

extern char** environ;

namespace fs = std::filesystem;
using namespace bertkit;
using json::Json;
using Clock = std::chrono::steady_clock;

namespace {

const char* kVocab = "data/bert-vocab/bert-base-uncased-vocab.txt";
const char* kText = "data/corpus/gutenberg/pg11.txt";

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atol(v) : fallback;
}

// A finished child: how it ended.
struct Ended {
  bool killed_by_test = false;  // the test sent SIGKILL before it ended
  int status = 0;               // waitpid's
  double seconds = 0;
  bool exited(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
  bool signaled(int sig) const { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }
};

// bertkit ARGS, output to LOG, with BERTKIT_FAULT=fault when given.
pid_t spawn(const std::vector<std::string>& args, const std::string& log, const std::string& fault) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("BERTKIT_FAULT=", 0) != 0) env.push_back(*e);
  if (!fault.empty()) env.push_back("BERTKIT_FAULT=" + fault);
  env.push_back("OMP_NUM_THREADS=1");
  std::vector<std::string> argv = {test::bertkit_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  for (auto& e : env) cenv.push_back(e.data());
  cargv.push_back(nullptr);
  cenv.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

// Wait for PID; SIGKILL it after kill_after_ms (< 0: never) or 300 s.
Ended wait_or_kill(pid_t pid, double kill_after_ms) {
  Ended e;
  const auto t0 = Clock::now();
  for (;;) {
    if (::waitpid(pid, &e.status, WNOHANG) == pid) break;
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if ((kill_after_ms >= 0 && ms >= kill_after_ms) || ms > 300000) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &e.status, 0);
      e.killed_by_test = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  e.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return e;
}

Ended run_bertkit(const std::vector<std::string>& args, const std::string& log, const std::string& fault = "",
                  double kill_after_ms = -1) {
  return wait_or_kill(spawn(args, log, fault), kill_after_ms);
}

bool wait_until(const std::function<bool()>& cond, double seconds = 120) {
  const auto t0 = Clock::now();
  while (!cond()) {
    if (std::chrono::duration<double>(Clock::now() - t0).count() > seconds) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return true;
}

std::string text_of(const std::string& path) { return test::path_exists(path) ? read_file(path) : ""; }

// A shared tiny pretraining run: shards of 100 documents of Alice (seq 32), a
// 2-layer 32-wide model, 8 steps, a checkpoint every 2 (2 kept), and its
// uninterrupted result.
struct TinyRun {
  std::string root, config, reference;  // reference: the uninterrupted run's output dir
  double seconds = 0;                   // its wall time
  std::string weights() const { return read_file(reference + "/model/model.safetensors"); }
  ~TinyRun() {  // at exit; kept for inspection when a test failed
    if (!root.empty() && !::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(root);
  }
};

const TinyRun& tiny_run() {
  static TinyRun run;
  if (!run.root.empty()) return run;
  run.root = test::make_temp_dir("bertkit-faults-e2e");
  std::string log;
  const int rc = test::run_command(test::bertkit_binary() + " prepare " + test::shared_path(kText) + " -o " + run.root +
                                       "/shards -t " + test::shared_path(kVocab) +
                                       " --max-seq-length 32 --max-documents 100 --eval-documents 10 -q",
                                   &log);
  if (rc != 0) throw std::runtime_error("prepare failed: " + log);
  Json cfg = Json::parse(R"({
    "model": {"config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                         "intermediate_size": 64, "max_position_embeddings": 64}},
    "task": {"type": "pretraining"},
    "train": {"learning_rate": 1e-3, "max_steps": 8, "batch_size": 8, "num_threads": 1, "device": "cpu"},
    "eval": {"per_epoch": false, "at_end": false},
    "logging": {"every_steps": 1, "progress": false, "tensorboard": false},
    "checkpoint": {"every_steps": 2, "keep_last": 2}
  })");
  cfg["tokenizer"] = {{"path", test::shared_path(kVocab)}};
  cfg["data"] = {{"shards", run.root + "/shards"}};
  cfg["output"] = {{"dir", run.root + "/unused"}};
  run.config = run.root + "/run.json";
  json::save_file(run.config, cfg);
  run.reference = run.root + "/reference";
  Ended e = run_bertkit({"train", run.config, "-o", run.reference}, run.root + "/reference.log");
  if (!e.exited(0)) throw std::runtime_error("reference run failed: " + text_of(run.root + "/reference.log"));
  run.seconds = e.seconds;
  return run;
}

std::vector<std::string> train_args(const std::string& out, bool resume) {
  std::vector<std::string> a = {"train", tiny_run().config, "-o", out};
  if (resume) a.push_back("--resume");
  return a;
}

// What a crash may leave: every checkpoint-<k> complete (its checksums match)
// and an exported model either absent or the final one.
void expect_nothing_half_written(const std::string& out, const std::string& why) {
  for (const auto& cp : list_checkpoints(out)) {
    ChecksumReport r = verify_checksums(cp);
    EXPECT_TRUE(r.has_manifest && r.ok()) << why << ": " << cp << ": " << r.problem;
  }
  if (test::path_exists(out + "/model/model.safetensors")) {
    EXPECT_EQ(read_file(out + "/model/model.safetensors"), tiny_run().weights()) << why << ": model/ half-written";
  }
}

struct KillPoint {
  const char* name;
  int times;  // how often a run of 8 steps reaches it
};
// 4 checkpoints (steps 2, 4, 6, 8), 2 prunings (at 6 and 8); write_dir_atomic
// also writes the final model/.
const KillPoint kKillPoints[] = {{"checkpoint.model_written", 4}, {"checkpoint.optimizer_written", 4},
                                 {"checkpoint.files_written", 4},  {"checkpoint.renamed", 4},
                                 {"checkpoint.pruning", 2},        {"write_dir_atomic.filled", 5},
                                 {"write_dir_atomic.renamed", 5}};

}  // namespace

// Kill trials: every named point inside a checkpoint write (and the final
// export), each at a seeded K-th time; then BERTKIT_KILL_TRIALS random moments,
// once or twice (the second during the resume). Each trial then resumes to the
// end and must hold the uninterrupted run's weights.
TEST(FaultsE2E, KilledAnywhereResumesToTheUninterruptedWeights) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED(kText);
  const TinyRun& run = tiny_run();
  const long random_trials = env_or("BERTKIT_KILL_TRIALS", 6);
  const long seed = env_or("BERTKIT_KILL_SEED", 20261130);
  std::mt19937 rng(static_cast<unsigned>(seed));
  const double span_ms = run.seconds * 1000;
  const long named = static_cast<long>(std::size(kKillPoints));
  const long trials = named + random_trials;
  int kills = 0, survived = 0;
  for (long t = 0; t < trials; ++t) {
    const std::string out = run.root + "/trial-" + std::to_string(t);
    const std::string log = out + ".log";
    std::string what;
    if (t < named) {
      const KillPoint& p = kKillPoints[t];
      const std::string fault = std::string(p.name) + "#" + std::to_string(1 + rng() % p.times);
      Ended e = run_bertkit(train_args(out, false), log, fault);
      EXPECT_TRUE(e.signaled(SIGKILL)) << fault << " was not reached: " << text_of(log);
      kills += e.signaled(SIGKILL);
      what = fault;
    } else {
      const int times = t % 2 == 0 ? 1 : 2;
      for (int k = 0; k < times; ++k) {
        const double at = std::uniform_real_distribution<double>(0, span_ms)(rng);
        Ended e = run_bertkit(train_args(out, k > 0), log, "", at);
        kills += e.killed_by_test;
        what += (k ? ", " : "") + std::string("at ") + std::to_string(static_cast<int>(at)) + " ms" +
                (e.killed_by_test ? "" : " (ended first)");
      }
    }
    expect_nothing_half_written(out, "trial " + std::to_string(t) + " (" + what + ")");
    Ended done = run_bertkit(train_args(out, true), log);
    const bool same = done.exited(0) && test::path_exists(out + "/model/model.safetensors") &&
                      read_file(out + "/model/model.safetensors") == run.weights();
    EXPECT_TRUE(same) << "trial " << t << " (" << what << "): " << text_of(log);
    survived += same;
    std::cerr << "kill trial " << t << ": " << what << " -> " << (same ? "resumed to the same weights" : "FAILED") << "\n";
    if (same) fs::remove_all(out);
  }
  std::cerr << "kill trials: " << trials << " (" << named << " named points, " << random_trials << " random, seed " << seed
            << "), " << kills << " kills, " << survived << " survived with the uninterrupted weights\n";
  EXPECT_EQ(survived, trials);
}

// `bertkit export` killed at random moments and at its write's named points:
// DST holds the previous export or the new one, whole; run again, the new one.
TEST(FaultsE2E, KilledExportLeavesTheOldOrTheNewModelWhole) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED(kText);
  const TinyRun& run = tiny_run();
  const std::string root = run.root + "/export";
  const std::string src_old = run.reference + "/checkpoint-6", src_new = run.reference + "/checkpoint-8";
  ASSERT_TRUE(run_bertkit({"export", src_old, root + "/old"}, root + ".log").exited(0)) << text_of(root + ".log");
  const auto t0 = Clock::now();
  ASSERT_TRUE(run_bertkit({"export", src_new, root + "/new"}, root + ".log").exited(0)) << text_of(root + ".log");
  const double span_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const std::string old_bytes = read_file(root + "/old/model.safetensors");
  const std::string new_bytes = read_file(root + "/new/model.safetensors");
  ASSERT_NE(old_bytes, new_bytes);
  std::mt19937 rng(static_cast<unsigned>(env_or("BERTKIT_KILL_SEED", 20261130)));
  const long trials = std::max(3L, env_or("BERTKIT_KILL_TRIALS", 6) / 2);
  int kills = 0;
  for (long t = 0; t < trials; ++t) {
    const std::string dst = root + "/dst-" + std::to_string(t);
    fs::copy(root + "/old", dst, fs::copy_options::recursive);
    const std::string fault = t == 0 ? "write_dir_atomic.filled" : t == 1 ? "write_dir_atomic.renamed" : "";
    const double at = std::uniform_real_distribution<double>(0, span_ms)(rng);
    Ended e = run_bertkit({"export", src_new, dst}, root + ".log", fault, fault.empty() ? at : -1);
    kills += e.killed_by_test || e.signaled(SIGKILL);
    const std::string now = read_file(dst + "/model.safetensors");
    EXPECT_TRUE(now == old_bytes || now == new_bytes) << "trial " << t << ": half-written";
    EXPECT_TRUE(test::path_exists(dst + "/config.json") && test::path_exists(dst + "/vocab.txt")) << "trial " << t;
    ASSERT_TRUE(run_bertkit({"export", src_new, dst}, root + ".log").exited(0)) << text_of(root + ".log");
    EXPECT_EQ(read_file(dst + "/model.safetensors"), new_bytes) << "trial " << t;
  }
  std::cerr << "export kill trials: " << trials << ", " << kills << " kills, DST whole every time\n";
}

// The first SIGTERM: a checkpoint after the step in progress, exit 143; the
// run resumes to the uninterrupted weights.
TEST(FaultsE2E, SigtermWritesACheckpointAtTheNextStepAndExits143) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED(kText);
  const TinyRun& run = tiny_run();
  const std::string out = run.root + "/sigterm", log = out + ".log";
  std::vector<std::string> args = train_args(out, false);
  args.insert(args.end(), {"--set", "checkpoint.every_steps=0"});
  const pid_t pid = spawn(args, log, "");
  ASSERT_TRUE(wait_until([&] { return text_of(log).find("train: ") != std::string::npos; })) << text_of(log);
  ::kill(pid, SIGTERM);
  Ended e = wait_or_kill(pid, -1);
  const std::string text = text_of(log);
  ASSERT_TRUE(e.exited(143)) << "status " << e.status << ": " << text;
  auto cps = list_checkpoints(out);
  ASSERT_EQ(cps.size(), 1u) << text;
  const std::string step = fs::path(cps[0]).filename().string().substr(11);
  EXPECT_LT(std::stoi(step), 8);
  EXPECT_NE(text.find("stopped by signal 15 after step " + step + ": " + cps[0] + " written; continue with --resume"),
            std::string::npos) << text;
  EXPECT_FALSE(test::path_exists(out + "/model"));
  ASSERT_TRUE(run_bertkit(train_args(out, true), log).exited(0)) << text_of(log);
  EXPECT_EQ(read_file(out + "/model/model.safetensors"), run.weights());
}

// A second signal ends the run at once, even inside a checkpoint write (held
// there by BERTKIT_FAULT=...:pause): no checkpoint, the unfinished write is
// cleared at resume.
TEST(FaultsE2E, SecondSignalStopsAtOnceEvenInsideACheckpointWrite) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED(kText);
  const TinyRun& run = tiny_run();
  const std::string out = run.root + "/sigint", log = out + ".log";
  const pid_t pid = spawn(train_args(out, false), log, "checkpoint.model_written#1:pause");
  auto write_in_progress = [&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out, ec))
      if (e.path().filename().string().rfind("checkpoint-2.tmp.", 0) == 0 && fs::exists(e.path() / "model.safetensors"))
        return true;
    return false;
  };
  ASSERT_TRUE(wait_until(write_in_progress)) << text_of(log);
  ::kill(pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(pid, SIGINT);
  Ended e = wait_or_kill(pid, 60000);
  EXPECT_FALSE(e.killed_by_test);
  EXPECT_TRUE(e.signaled(SIGINT)) << "status " << e.status << ": " << text_of(log);
  EXPECT_TRUE(list_checkpoints(out).empty());
  ASSERT_TRUE(run_bertkit(train_args(out, true), log).exited(0)) << text_of(log);
  EXPECT_NE(text_of(log).find("(left by an interrupted write)"), std::string::npos) << text_of(log);
  EXPECT_EQ(read_file(out + "/model/model.safetensors"), run.weights());
  for (const auto& entry : fs::directory_iterator(out))
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
}

// A file size limit (ulimit -f, as a full disk) while checkpoint-6 is written:
// exit 1 with the file and the intact previous checkpoint named; nothing of
// checkpoint-6 left; the run resumes from checkpoint-4 to the same weights.
TEST(FaultsE2E, FullDiskDuringACheckpointKeepsThePreviousOne) {
  BERTKIT_NEED_SHARED(kVocab);
  BERTKIT_NEED_SHARED(kText);
  const TinyRun& run = tiny_run();
  const std::string out = run.root + "/full-disk", log = out + ".log";
  std::vector<std::string> args = train_args(out, false);
  args.insert(args.end(), {"--stop-after", "4"});
  ASSERT_TRUE(run_bertkit(args, log).exited(0)) << text_of(log);
  const std::string before = read_file(out + "/checkpoint-4/model.safetensors");
  std::string text;
  // 2000 blocks (1 MB in dash's 512-byte blocks): less than model.safetensors (about 4 MB).
  const int rc = test::run_command("ulimit -f 2000; exec " + test::bertkit_binary() + " train " + run.config + " -o " +
                                       out + " --resume",
                                   &text);
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("error: " + out + "/checkpoint-6 not written: " + out + "/checkpoint-6.tmp."), std::string::npos)
      << text;
  EXPECT_NE(text.find("model.safetensors"), std::string::npos) << text;
  EXPECT_NE(text.find(out + "/checkpoint-4 is intact: free space and continue with --resume"), std::string::npos) << text;
  for (const auto& entry : fs::directory_iterator(out))
    EXPECT_EQ(entry.path().filename().string().rfind("checkpoint-6", 0), std::string::npos) << entry.path();
  EXPECT_EQ(read_file(out + "/checkpoint-4/model.safetensors"), before);
  expect_nothing_half_written(out, "after the full disk");
  ASSERT_TRUE(run_bertkit(train_args(out, true), log).exited(0)) << text_of(log);
  EXPECT_NE(text_of(log).find("resume: " + out + "/checkpoint-4 (step 4"), std::string::npos) << text_of(log);
  EXPECT_EQ(read_file(out + "/model/model.safetensors"), run.weights());
}
