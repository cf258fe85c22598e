// Trainer::Impl: the state of one run and the named phases of its loop. The
// phases live in trainer.cc (the loop), trainer_setup.cc (building the run and
// resuming it), trainer_checkpoint.cc and trainer_log.cc. Private to src/training.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "bertkit/core/json.h"
#include "bertkit/nn/optimizers.h"
#include "bertkit/training/batch_loader.h"
#include "bertkit/training/data_parallel.h"
#include "bertkit/training/distributed.h"
#include "bertkit/training/loss_scaler.h"
#include "bertkit/training/precision.h"
#include "bertkit/training/schedule.h"
#include "bertkit/training/tensorboard.h"
#include "bertkit/training/trainer.h"

namespace bertkit {

// One optimizer step's sums over its micro-batches, kept on the device and
// read back only when logged.
struct StepSums {
  torch::Tensor loss;                           // double: sum of micro-batch loss / micro-batches
  std::map<std::string, torch::Tensor> parts;   // mlm_loss, nsp_loss (same averaging)
  int64_t micro_batches = 0;
  int64_t tokens = 0;
};

// What the update did: device tensors, read at logging.
struct StepUpdate {
  torch::Tensor grad_norm;   // 0-dim float on the device; undefined when not clipped
  double lr = 0;
  bool found_inf = false;    // skipped: fp16 overflow, or non-finite gradients with nan_policy "skip" (one flag read)
};

struct Trainer::Impl {
  RunConfig config;
  TrainOptions options;

  torch::Device device = torch::kCPU;
  std::shared_ptr<Distributed> dist;
  std::unique_ptr<DataParallel> data_parallel;  // gradient all-reduce (c10d Reducer)
  Precision precision = Precision::FP32;
  std::shared_ptr<Tokenizer> tokenizer;
  BertConfig model_config;
  std::unique_ptr<Task> task;
  BertPreTrainedModel model;
  std::unique_ptr<Optimizer> optimizer;
  std::vector<torch::Tensor> params;  // optimizer parameter order
  std::shared_ptr<Dataset> train_data;
  std::unique_ptr<BatchLoader> loader;
  LRSchedule schedule;
  std::unique_ptr<DynamicLossScaler> scaler;
  ForwardOptions forward_options;
  MetricSpec metric;

  TrainerState state;
  int64_t micro_per_epoch = 0;   // micro-batches per epoch, per process
  int64_t steps_per_epoch = 0;

  // Losses of steps not yet read back from the device (step -> loss).
  std::vector<std::pair<int64_t, torch::Tensor>> unread_losses;

  std::unique_ptr<TensorBoardWriter> tb;
  std::string metrics_path;
  bool interactive = false;

  Impl(RunConfig c, TrainOptions o) : config(std::move(c)), options(std::move(o)) {}

  bool main_process() const { return dist->is_main(); }
  std::string out(const std::string& name) const { return config.output.dir + "/" + name; }
  double epoch_float() const {
    return static_cast<double>(state.epoch) + static_cast<double>(state.micro_batch) / static_cast<double>(micro_per_epoch);
  }

  // ---- setup (trainer_setup.cc) -------------------------------------------
  void setup();
  void choose_device();
  void prepare_output_dir(bool resuming);
  void load_tokenizer_and_model_config();
  void create_task_and_metric();
  void create_model();
  void create_optimizer();
  void plan_steps();
  void create_data_loader();
  void create_schedule_and_scaler();
  void start_fresh_log();
  void write_run_config();
  void resume();
  std::string newest_intact_checkpoint();
  void set_aside_checkpoints_after(int64_t step);
  void remove_unfinished_writes();

  // ---- the step (trainer.cc) ----------------------------------------------
  TrainResult run();
  void announce() const;
  StepSums accumulate_gradients();
  LoadedBatch load_micro_batch();
  void forward_backward(const Batch& batch, int64_t micro_batches, bool sync_gradients, StepSums& sums);
  void synchronize_gradients();
  StepUpdate clip_and_step();
  bool advance_position(StepSums& sums);  // true at an epoch's end
  void read_step_losses(TrainResult& result);
  bool maybe_evaluate(TrainResult& result, bool epoch_end, bool last);
  bool maybe_checkpoint(TrainResult& result, bool last, bool stop, bool logged);
  int stop_signal_received(bool logged);
  void stop_on_nonfinite_loss(int64_t step, double loss);
  Metrics evaluate(const std::string& predictions_path = "");
  bool evaluate_and_track(TrainResult& result);
  void finish(TrainResult& result);

  // ---- logging (trainer_log.cc) -------------------------------------------
  void log_json(const json::Json& j);
  void log_scalars(const std::string& prefix, const std::map<std::string, double>& values);
  void log_step(const StepSums& sums, const StepUpdate& update, double step_loss, double tokens_per_second,
                double seconds, int64_t start_step);
  void log_eval(const Metrics& m);
  void drop_log_lines_after_checkpoint();

  // ---- checkpoints (trainer_checkpoint.cc) --------------------------------
  void save_checkpoint();
  void prune_checkpoints();
  std::string last_checkpoint_before(int64_t step) const;
  void write_optimizer_state(const std::string& path);
};

}  // namespace bertkit
