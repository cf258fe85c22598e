// bertkit train: one JSON run config -> a trained model (any registered task).
#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>

#include <signal.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/training/resolved_run.h"
#include "bertkit/training/trainer.h"
#include "command.h"

namespace bertkit::cli {
namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> sets;
  std::string output, device, resume_from;
  bool resume = false;
  int64_t stop_after = 0;
  bool print_config = false;
};

// SIGINT / SIGTERM: the first asks the trainer to write a checkpoint after the
// step in progress and stop (exit 128 + the signal's number); a second ends the
// process at once, by that signal (checkpoints are written atomically, so
// nothing on disk is half-written either way).
std::atomic<int> stop_signal{0};

extern "C" void on_train_stop_signal(int sig) {
  if (stop_signal.exchange(sig) == 0) return;
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_stop_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_train_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A file size limit (ulimit -f) then fails the write, which names the file,
  // instead of killing the process.
  ::signal(SIGXFSZ, SIG_IGN);
}

// configs/quickstart.json is `bertkit quickstart --config`'s, not a run config.
void refuse_quickstart_config(const std::string& path) {
  json::Json root = json::load_file(path);
  if (root.is_object() && root.contains("pretrain") && root.contains("finetune"))
    throw InputError(path + " is a quickstart config (pretrain/finetune sections): run `bertkit quickstart --config " +
                     path + "`; `bertkit train` takes a run config (docs/training.md)");
}

// --resume continues the run in output.dir as it was started: the config saved
// there (run_config.json, with the first run's --set values) replaces CONFIG,
// whose output.dir (and this call's --set) still apply.
RunConfig load_run_config(const TrainArgs& a, const std::vector<std::string>& sets) {
  refuse_quickstart_config(a.config);
  RunConfig config = RunConfig::load(a.config, sets);
  const bool resuming = a.resume || !a.resume_from.empty();
  const std::string saved = config.output.dir + "/run_config.json";
  if (!resuming || !file_exists(saved)) return config;
  std::cerr << "resume: using the run config saved in " << saved << "\n";
  std::vector<std::string> resume_sets = {"output.dir=" + config.output.dir};
  resume_sets.insert(resume_sets.end(), sets.begin(), sets.end());
  return RunConfig::load(saved, resume_sets);
}

// The config exactly as the run would use it and save it as run_config.json:
// through the trainer's own resolution (resolved_run.h), so the task's defaults
// read from the data (labels, metric) are there and every key is checked.
void print_config(const RunConfig& config) { std::cout << resolve_run_config(config).dump(2) << "\n"; }

int run_train(const TrainArgs& a) {
  std::vector<std::string> sets = a.sets;
  if (!a.output.empty()) sets.push_back("output.dir=" + a.output);
  if (!a.device.empty()) sets.push_back("train.device=" + a.device);
  RunConfig config = load_run_config(a, sets);
  if (a.print_config) {
    print_config(config);
    return 0;
  }
  TrainOptions o;
  o.resume = a.resume;
  o.resume_from = a.resume_from;
  o.stop_after_steps = a.stop_after;
  o.stop_signal = &stop_signal;
  install_stop_signal_handlers();
  Trainer trainer(config, o);
  TrainResult r = trainer.train();
  json::Json j = {{"global_step", r.global_step}, {"seconds", r.seconds}, {"tokens_per_second", r.tokens_per_second},
                  {"skipped_steps", r.skipped_steps}, {"stopped_early", r.stopped_early}, {"interrupted", r.interrupted}};
  if (!r.step_loss.empty()) j["final_loss"] = r.step_loss.rbegin()->second;
  if (!r.model_dir.empty()) j["model_dir"] = r.model_dir;
  if (r.best_metric) j["best_metric"] = *r.best_metric;
  for (const auto& [k, v] : r.last_eval) j["eval_" + k] = v;
  std::cout << j.dump() << "\n";
  return r.stop_signal != 0 ? 128 + r.stop_signal : 0;
}

Action setup(CLI::App& sub) {
  auto a = std::make_shared<TrainArgs>();
  sub.add_option("config", a->config, "Run config JSON (configs/*.json)")->required()->check(CLI::ExistingFile);
  verbatim_values(sub.add_option("--set", a->sets, "Override a config key: --set train.learning_rate=3e-5 (repeatable)"));
  sub.add_option("-o,--output", a->output, "Output directory (same as --set output.dir=DIR)");
  sub.add_option("--device", a->device, "auto, cpu, cuda or cuda:N (same as --set train.device=...)");
  sub.add_flag("--resume", a->resume,
               "Continue from the newest checkpoint-* in the output directory, with the run_config.json saved there");
  sub.add_option("--resume-from", a->resume_from, "Continue from this checkpoint directory");
  sub.add_option("--stop-after", a->stop_after,
                 "Stop (with a checkpoint) after this many optimizer steps in total, as if interrupted; continue with --resume");
  sub.add_flag("--print-config", a->print_config, "Print the config as the run would use it (run_config.json: defaults, labels and metric from the data) and exit");
  sub.footer("SIGINT/SIGTERM: a checkpoint after the current step, then exit 128+signal (130, 143); a second signal "
             "stops at once. --resume skips a damaged checkpoint (checksums.json) for the one before it.\n"
             "Config keys, defaults, outputs, faults and recovery: docs/training.md (tasks: docs/tasks.md).\n");
  return [a] { return run_train(*a); };
}

Registrar reg({"train", "Train (pretrain or fine-tune) a model from a JSON run config", setup});

}  // namespace
}  // namespace bertkit::cli
