// The trainer: one loop for every task (pretraining, classification, NER, QA).
//
//   RunConfig config = RunConfig::load("configs/pretrain-tiny.json", {"train.max_steps=100"});
//   Trainer trainer(config);
//   TrainResult r = trainer.train();
//
// Output directory layout (output.dir):
//   run_config.json                  the resolved config
//   metrics.jsonl                    one JSON object per logged step / evaluation
//   tensorboard/events.out.tfevents.*
//   checkpoint-<step>/               HF model dir + optimizer.safetensors + trainer_state.json + tokenizer files
//   best/                            the best model by eval.metric (when evaluating)
//   model/                           the final exported HF model dir with tokenizer files
//   predictions.jsonl                (eval.predictions) the final evaluation's predictions
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertkit/training/run_config.h"
#include "bertkit/training/task.h"

namespace bertkit {

// trainer_state.json: where a run is, so --resume continues it exactly.
struct TrainerState {
  int64_t global_step = 0;       // optimizer steps taken
  int64_t epoch = 0;             // current epoch (0-based)
  int64_t micro_batch = 0;       // next micro-batch index within the epoch (the data position)
  int64_t total_steps = 0;
  uint64_t seed = 0;
  int64_t world_size = 1;
  int64_t tokens_seen = 0;
  std::optional<double> best_metric;
  int64_t best_step = -1;
  std::string best_metric_name;
  int64_t evals_without_improvement = 0;
  double loss_scale = 0;         // fp16 dynamic loss scale (0: not fp16)
  int64_t loss_scale_growth_tracker = 0;
  int64_t skipped_steps = 0;     // steps skipped on inf/NaN gradients (fp16, or train.nan_policy "skip")
  // The dropout RNG (CPU generator) state lives in optimizer.safetensors as "trainer.rng_state.cpu".
  nlohmann::json to_json() const;
  static TrainerState from_json(const nlohmann::json& j, const std::string& where);
};

struct TrainOptions {
  bool resume = false;           // continue from the newest checkpoint-* in output.dir
  std::string resume_from;       // ... or from this checkpoint dir
  // Stop (after writing a checkpoint) once this many optimizer steps are done in
  // total: simulates an interruption (used by the resume tests). 0: off.
  int64_t stop_after_steps = 0;
  bool export_model = true;      // write output.dir/model at the end
  // Set (by a signal handler: bertkit train's SIGINT/SIGTERM) to a signal's
  // number: the run writes a checkpoint after the step in progress and stops
  // (with several processes: at the next logging step, all together). nullptr: none.
  const std::atomic<int>* stop_signal = nullptr;
};

struct TrainResult {
  int64_t global_step = 0;
  bool stopped_early = false;        // early stopping fired
  bool interrupted = false;          // stop_after_steps reached, or stop_signal
  int stop_signal = 0;               // the signal that stopped the run (0: none)
  std::map<int64_t, double> step_loss;  // training loss of each step run by this process
  Metrics last_eval;                 // the last evaluation (after restoring the best model, if any)
  std::optional<double> best_metric;
  int64_t best_step = -1;
  int64_t skipped_steps = 0;
  double seconds = 0;
  double tokens_per_second = 0;
  std::string model_dir;             // exported model ("" when not exported)
};

class Trainer {
 public:
  explicit Trainer(RunConfig config, TrainOptions options = {});
  ~Trainer();
  TrainResult train();
  // The model being trained (after train(): the final one, the best restored when configured).
  BertPreTrainedModel model() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The checkpoint-<step> dirs of `output_dir`, oldest first.
std::vector<std::string> list_checkpoints(const std::string& output_dir);

}  // namespace bertkit
