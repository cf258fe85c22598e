// The training loop: one optimizer step after another, each read as its phases
// (see run()). The run's parts are built in trainer_setup.cc; checkpoints and
// logs are written by trainer_checkpoint.cc and trainer_log.cc.
//
// The step never waits for the device: losses, their parts and the gradient
// norm stay device tensors until a logging step reads them (fp16's skip
// decision reads one flag per step).
#include "bertkit/training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>

#include "bertkit/core/error.h"
#include "bertkit/core/fault_injection.h"
#include "bertkit/core/fs.h"
#include "bertkit/data/masking.h"
#include "bertkit/models/checkpoint.h"
#include "trainer_impl.h"

namespace bertkit {

using json::Json;

namespace {

bool metric_improved(double value, const std::optional<double>& best, bool greater, double threshold) {
  if (!best) return true;
  return greater ? value > *best + threshold : value < *best - threshold;
}

// One flag read from the device: false when a gradient holds inf or NaN. The
// gradients are all-reduced, so every process decides alike.
bool gradients_finite(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  torch::Tensor bad;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    auto nonfinite = p.grad().isfinite().logical_not().any();
    bad = bad.defined() ? bad.logical_or(nonfinite) : nonfinite;
  }
  return !bad.defined() || !bad.item<bool>();
}

}  // namespace

TrainResult Trainer::Impl::run() {
  TrainResult result;
  const auto t0 = std::chrono::steady_clock::now();
  auto now = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  const int64_t start_step = state.global_step;
  int64_t tokens_since_log = 0;
  double time_of_log = 0;
  bool stop = false;
  announce();
  while (state.global_step < state.total_steps && !stop) {
    StepSums sums = accumulate_gradients();
    synchronize_gradients();
    StepUpdate update = clip_and_step();
    const bool epoch_end = advance_position(sums);
    tokens_since_log += sums.tokens;
    const bool last = state.global_step >= state.total_steps;
    const bool logged = state.global_step % config.logging.every_steps == 0 || last || update.found_inf;
    if (logged) {
      read_step_losses(result);
      const double t = now();
      // Every process's tokens (the ranks' counts differ with their examples' lengths).
      const double tokens = dist->all_reduce_sum({static_cast<double>(tokens_since_log)}).at(0);
      const double tok_s = tokens / std::max(1e-9, t - time_of_log);
      log_step(sums, update, result.step_loss.at(state.global_step), tok_s, t, start_step);
      tokens_since_log = 0;
      time_of_log = t;
    }
    const double pause_start = now();  // evaluation and checkpoints are kept out of tokens/s
    stop = maybe_evaluate(result, epoch_end, last);
    stop = maybe_checkpoint(result, last, stop, logged) || stop;
    time_of_log += now() - pause_start;
  }
  read_step_losses(result);
  if (interactive && main_process()) std::cerr << "\n";
  result.seconds = now();
  finish(result);
  return result;
}

void Trainer::Impl::announce() const {
  if (!main_process()) return;
  std::cerr << "train: " << config.task_type << ", " << train_data->size() << " examples, " << steps_per_epoch
            << " steps/epoch, " << state.total_steps << " steps, batch " << config.train.batch_size << " x "
            << config.train.gradient_accumulation_steps << " accumulation x " << dist->world_size()
            << " process(es), " << device.str() << ", " << precision_name(precision) << "\n";
}

// One optimizer step's gradients: up to gradient_accumulation_steps
// micro-batches, never past the epoch's end.
StepSums Trainer::Impl::accumulate_gradients() {
  const int64_t n_micro = std::min(config.train.gradient_accumulation_steps, micro_per_epoch - state.micro_batch);
  StepSums sums;
  for (int64_t m = 0; m < n_micro; ++m) {
    LoadedBatch loaded = load_micro_batch();
    forward_backward(loaded.batch, n_micro, /*sync_gradients=*/m == n_micro - 1, sums);
    sums.tokens += loaded.tokens;
  }
  sums.micro_batches = n_micro;
  return sums;
}

// The next micro-batch (made ahead by the loader's workers), on the device.
LoadedBatch Trainer::Impl::load_micro_batch() {
  LoadedBatch loaded = loader->next();
  if (loaded.position.epoch != state.epoch || loaded.position.micro_batch != state.micro_batch)
    throw RuntimeError("the data loader is out of step with the run");
  ++state.micro_batch;
  return loaded;
}

// forward (loss: the mean over this micro-batch) and backward: gradients add up
// over the micro-batches of the step (all-reduced across processes during the
// last one's backward); the loss parts add up on the device.
void Trainer::Impl::forward_backward(const Batch& batch, int64_t micro_batches, bool sync_gradients, StepSums& sums) {
  ModelOutput output;
  {
    AutocastGuard autocast(precision, device);
    output = model->forward(batch, forward_options);
  }
  if (!output.loss.defined()) throw RuntimeError("the model returned no loss: does the task's batch carry labels?");
  torch::Tensor loss = output.loss.to(torch::kFloat) / static_cast<double>(micro_batches);
  if (sync_gradients) {  // once per step (its last micro-batch): the fault tests' non-finite loss
    if (fault_injected("train.nan_loss")) loss = loss * std::numeric_limits<double>::quiet_NaN();
    if (fault_injected("train.inf_loss")) loss = loss * std::numeric_limits<double>::infinity();
  }
  data_parallel->before_backward(loss, sync_gradients);
  (scaler ? scaler->scale_loss(loss) : loss).backward();
  torch::NoGradGuard no_grad;
  // In double, as the host sums they replace: sum += float(loss) / micro_batches.
  auto add = [](torch::Tensor& sum, const torch::Tensor& value) { sum = sum.defined() ? sum + value : value; };
  add(sums.loss, loss.detach().to(torch::kDouble));
  for (const auto& [name, part] : {std::pair{"mlm_loss", output.mlm_loss}, std::pair{"nsp_loss", output.nsp_loss}})
    if (part.defined()) add(sums.parts[name], part.detach().to(torch::kDouble) / static_cast<double>(micro_batches));
}

// Wait for the Reducer's bucket all-reduces (started during backward): every
// process then holds the mean gradient.
void Trainer::Impl::synchronize_gradients() { data_parallel->synchronize_gradients(); }

// Unscale (fp16), clip and step at the scheduled learning rate.
StepUpdate Trainer::Impl::clip_and_step() {
  StepUpdate u;
  u.found_inf = scaler ? !scaler->unscale_and_check(params)
                       : config.train.nan_policy == "skip" && !gradients_finite(params);
  if (u.found_inf && !scaler) ++state.skipped_steps;
  if (!u.found_inf && config.train.max_grad_norm > 0) u.grad_norm = clip_grad_norm(params, config.train.max_grad_norm);
  u.lr = schedule.lr(state.global_step);
  optimizer->set_lr(u.lr);
  if (!u.found_inf) optimizer->step();
  if (scaler) scaler->update(u.found_inf);
  optimizer->zero_grad();
  return u;
}

// Count the step and the data it used; true when the epoch ended.
bool Trainer::Impl::advance_position(StepSums& sums) {
  ++state.global_step;
  state.tokens_seen += sums.tokens;
  unread_losses.emplace_back(state.global_step, sums.loss);
  if (state.micro_batch < micro_per_epoch) return false;
  ++state.epoch;
  state.micro_batch = 0;
  return true;
}

// The losses of the steps since the last read, from the device in one copy
// (averaged across processes).
void Trainer::Impl::read_step_losses(TrainResult& result) {
  if (unread_losses.empty()) return;
  std::vector<torch::Tensor> losses;
  for (const auto& [step, loss] : unread_losses) losses.push_back(loss.reshape({}));
  torch::Tensor host = torch::stack(losses).cpu();
  std::vector<double> values(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
  if (dist->world_size() > 1) {
    values = dist->all_reduce_sum(values);
    for (double& v : values) v /= dist->world_size();
  }
  int64_t first_nonfinite = -1;
  for (std::size_t i = 0; i < values.size(); ++i) {
    result.step_loss[unread_losses[i].first] = values[i];
    if (!std::isfinite(values[i]) && first_nonfinite < 0) first_nonfinite = static_cast<int64_t>(i);
  }
  if (first_nonfinite >= 0) stop_on_nonfinite_loss(unread_losses[first_nonfinite].first, values[first_nonfinite]);
  unread_losses.clear();
}

// train.nan_policy "stop" (fp32/bf16; fp16's scaler skips such steps itself):
// the run ends before any checkpoint holds the damaged weights.
void Trainer::Impl::stop_on_nonfinite_loss(int64_t step, double loss) {
  if (scaler || config.train.nan_policy != "stop") return;
  const std::string last_good = last_checkpoint_before(step);
  throw RuntimeError("step " + std::to_string(step) + ": the training loss is " + (std::isnan(loss) ? "nan" : "inf") +
                     " (" + precision_name(precision) + "); stopped without writing a checkpoint. The last good checkpoint is " +
                     (last_good.empty() ? std::string("none (no checkpoint was written before step ") + std::to_string(step) + ")"
                                        : last_good + ": continue from it with --resume (a lower train.learning_rate?)") +
                     ", or set train.nan_policy \"skip\" to skip such steps");
}

// Evaluate when due; true when early stopping fires.
bool Trainer::Impl::maybe_evaluate(TrainResult& result, bool epoch_end, bool last) {
  const bool due = (config.eval.every_steps > 0 && state.global_step % config.eval.every_steps == 0) ||
                   (config.eval.per_epoch && epoch_end) || (last && config.eval.at_end);
  if (!due) return false;
  read_step_losses(result);  // a non-finite loss stops the run before the best model is saved
  if (!evaluate_and_track(result)) return false;
  result.stopped_early = true;
  if (main_process()) std::cerr << "early stopping: no improvement of " << metric.name << " in "
                                << state.evals_without_improvement << " evaluations\n";
  return true;
}

// Write a checkpoint when due; true when the run stops here (stop_after_steps
// or a stop signal).
bool Trainer::Impl::maybe_checkpoint(TrainResult& result, bool last, bool stop, bool logged) {
  const int signal = last ? 0 : stop_signal_received(logged);
  const bool interrupt = (options.stop_after_steps > 0 && state.global_step >= options.stop_after_steps && !last) ||
                         signal != 0;
  if ((config.checkpoint.every_steps > 0 && state.global_step % config.checkpoint.every_steps == 0) ||
      ((last || stop) && config.checkpoint.at_end) || interrupt) {
    read_step_losses(result);  // a non-finite loss stops the run before a checkpoint holds it
    save_checkpoint();
  }
  if (interrupt) result.interrupted = true;
  if (signal != 0) {
    result.stop_signal = signal;
    if (main_process())
      std::cerr << "stopped by signal " << signal << " after step " << state.global_step << ": "
                << out("checkpoint-" + std::to_string(state.global_step)) << " written; continue with --resume\n";
  }
  return interrupt;
}

// The signal number when a stop signal arrived (TrainOptions::stop_signal).
// With several processes every one must stop after the same step: they agree
// at logging steps, where they exchange the losses anyway.
int Trainer::Impl::stop_signal_received(bool logged) {
  if (!options.stop_signal) return 0;  // every process of a run is started alike
  const int local = options.stop_signal->load();
  if (dist->world_size() <= 1) return local;
  if (!logged) return 0;
  const double any = dist->all_reduce_sum({local != 0 ? 1.0 : 0.0}).at(0);
  return any > 0 ? (local != 0 ? local : 15) : 0;  // 15: SIGTERM, the signal torchrun forwards
}

Metrics Trainer::Impl::evaluate(const std::string& predictions_path) {
  if (!task->has_eval()) return {};
  EvalOptions eo;
  eo.device = device;
  eo.batch_size = config.eval.batch_size;
  eo.max_batches = config.eval.max_batches;
  eo.predictions_path = predictions_path;
  eo.seed = mix_seed(state.seed, 0xE7A1);
  eo.forward = forward_options;
  eo.rank = dist->rank();
  eo.world_size = dist->world_size();
  eo.sum_over_processes = [this](const std::vector<double>& v) { return dist->all_reduce_sum(v); };
  Metrics m;
  model->eval();
  {
    torch::NoGradGuard no_grad;
    AutocastGuard autocast(precision, device);
    m = task->evaluate(*model, eo);
    // Each rank ran its share of the batches and computed the metrics of the
    // whole set; all act on rank 0's numbers (best model, early stopping).
    m = dist->broadcast_metrics(m);
  }
  model->train();
  return m;
}

// Evaluate, log, track the best model; returns true when early stopping fires.
bool Trainer::Impl::evaluate_and_track(TrainResult& result) {
  Metrics m = evaluate();
  if (m.empty()) return false;
  result.last_eval = m;
  log_eval(m);
  auto it = m.find(metric.name);
  if (it == m.end()) {
    std::string keys;
    for (const auto& kv : m) keys += (keys.empty() ? "" : ", ") + kv.first;
    throw InputError("eval.metric \"" + metric.name + "\" is not among the task's metrics (" + keys + ")");
  }
  if (metric_improved(it->second, state.best_metric, metric.greater_is_better, config.eval.early_stopping_threshold)) {
    state.best_metric = it->second;
    state.best_step = state.global_step;
    state.evals_without_improvement = 0;
    if (config.eval.load_best_at_end && main_process())  // best/ is a complete model dir: predict can use it
      save_pretrained(model, out("best"), SaveDType::F32, [&](const std::string& tmp) { tokenizer->save(tmp); });
    dist->barrier();
  } else {
    ++state.evals_without_improvement;
  }
  return config.eval.early_stopping_patience > 0 &&
         state.evals_without_improvement >= config.eval.early_stopping_patience;
}

// After the loop: the best model back, the final evaluation, the export.
void Trainer::Impl::finish(TrainResult& result) {
  result.global_step = state.global_step;
  result.tokens_per_second = static_cast<double>(state.tokens_seen) / std::max(1e-9, result.seconds);
  result.skipped_steps = scaler ? scaler->skipped_steps() : state.skipped_steps;
  result.best_metric = state.best_metric;
  result.best_step = state.best_step;
  if (result.interrupted) return;

  // The best model back, evaluated once more (with predictions when asked).
  if (config.eval.load_best_at_end && state.best_step >= 0 && state.best_step != state.global_step &&
      dir_exists(out("best"))) {
    LoadReport report;
    load_weights(model, read_checkpoint_weights(out("best")), out("best"), &report);
    model->to(device);
    if (main_process()) std::cerr << "restored the best model (step " << state.best_step << ", " << metric.name
                                  << " " << *state.best_metric << ")\n";
  }
  if (task->has_eval() && (config.eval.predictions || state.best_step != state.global_step)) {
    result.last_eval = evaluate(config.eval.predictions && main_process() ? out("predictions.jsonl") : "");
    Json j = {{"step", state.global_step}, {"final", true}};
    for (const auto& [k, v] : result.last_eval) j["eval_" + k] = v;
    log_json(j);
  }
  if (options.export_model && main_process()) {
    result.model_dir = out("model");
    save_pretrained(model, result.model_dir, parse_save_dtype(config.output.dtype),
                    [&](const std::string& tmp) { tokenizer->save(tmp); });
    Json summary = {{"global_step", result.global_step}, {"seconds", result.seconds},
                    {"tokens_per_second", result.tokens_per_second}, {"skipped_steps", result.skipped_steps},
                    {"model_dir", result.model_dir}};
    if (result.best_metric) summary["best_" + metric.name] = *result.best_metric;
    for (const auto& [k, v] : result.last_eval) summary["eval_" + k] = v;
    json::save_file(out("train_results.json"), summary);
    std::cerr << "model saved to " << result.model_dir << "\n";
  }
  dist->barrier();
}

Trainer::Trainer(RunConfig config, TrainOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {
  impl_->setup();
}

Trainer::~Trainer() = default;

TrainResult Trainer::train() {
  try {
    return impl_->run();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // a collective inside backward (the Reducer's buckets)
    if (impl_->dist->world_size() <= 1) throw;
    throw RuntimeError(describe_collective_failure(*impl_->dist, e));
  }
}

BertPreTrainedModel Trainer::model() const { return impl_->model; }

}  // namespace bertkit
