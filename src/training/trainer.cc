#include "bertkit/training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/data/masking.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/optimizers.h"
#include "bertkit/nn/tensor_io.h"
#include "bertkit/training/data_parallel.h"
#include "bertkit/training/device.h"
#include "bertkit/training/distributed.h"
#include "bertkit/training/loss_scaler.h"
#include "bertkit/training/precision.h"
#include "bertkit/training/schedule.h"
#include "bertkit/training/tensorboard.h"

namespace fs = std::filesystem;

namespace bertkit {

using json::Json;

// ---------------------------------------------------------------------------
// trainer_state.json
Json TrainerState::to_json() const {
  return {{"global_step", global_step}, {"epoch", epoch}, {"micro_batch", micro_batch},
          {"total_steps", total_steps}, {"seed", seed}, {"world_size", world_size},
          {"tokens_seen", tokens_seen},
          {"best_metric", best_metric ? Json(*best_metric) : Json(nullptr)}, {"best_step", best_step},
          {"best_metric_name", best_metric_name}, {"evals_without_improvement", evals_without_improvement},
          {"loss_scale", loss_scale}, {"loss_scale_growth_tracker", loss_scale_growth_tracker},
          {"skipped_steps", skipped_steps},
          {"rng_state", "optimizer.safetensors: trainer.rng_state.cpu"}};
}

TrainerState TrainerState::from_json(const Json& j, const std::string& where) {
  json::ObjectReader r(j, "");
  TrainerState s;
  try {
    s.global_step = r.required<int64_t>("global_step");
    s.epoch = r.required<int64_t>("epoch");
    s.micro_batch = r.required<int64_t>("micro_batch");
    r.read("total_steps", s.total_steps);
    r.read("seed", s.seed);
    r.read("world_size", s.world_size);
    r.read("tokens_seen", s.tokens_seen);
    r.read("best_metric", s.best_metric);
    r.read("best_step", s.best_step);
    r.read("best_metric_name", s.best_metric_name);
    r.read("evals_without_improvement", s.evals_without_improvement);
    r.read("loss_scale", s.loss_scale);
    r.read("loss_scale_growth_tracker", s.loss_scale_growth_tracker);
    r.read("skipped_steps", s.skipped_steps);
    r.allow({"rng_state"});
    r.finish();
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  return s;
}

std::vector<std::string> list_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return {};
  for (const auto& e : fs::directory_iterator(output_dir)) {
    std::string name = e.path().filename().string();
    if (!e.is_directory() || name.rfind("checkpoint-", 0) != 0) continue;
    std::string num = name.substr(11);
    if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!file_exists(e.path().string() + "/trainer_state.json")) continue;  // incomplete
    found.emplace_back(std::stoll(num), e.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

// ---------------------------------------------------------------------------
namespace {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else std::snprintf(buf, sizeof(buf), "%02ld:%02ld", t / 60, t % 60);
  return buf;
}

bool metric_improved(double value, const std::optional<double>& best, bool greater, double threshold) {
  if (!best) return true;
  return greater ? value > *best + threshold : value < *best - threshold;
}

}  // namespace

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
  LRSchedule schedule;
  std::unique_ptr<DynamicLossScaler> scaler;
  ForwardOptions forward_options;
  MetricSpec metric;

  TrainerState state;
  int64_t micro_per_epoch = 0;   // micro-batches per epoch, per process
  int64_t steps_per_epoch = 0;
  std::vector<int64_t> epoch_order;  // shuffled example indices of state.epoch
  int64_t epoch_order_of = -1;

  std::unique_ptr<TensorBoardWriter> tb;
  std::string metrics_path;
  bool interactive = false;

  Impl(RunConfig c, TrainOptions o) : config(std::move(c)), options(std::move(o)) {}

  bool main_process() const { return dist->is_main(); }
  std::string out(const std::string& name) const { return config.output.dir + "/" + name; }

  // ---- setup ---------------------------------------------------------------
  void setup() {
    const auto& tc = config.train;
    if (tc.num_threads > 0) torch::set_num_threads(tc.num_threads);
    device = parse_device(tc.device);
    dist = Distributed::from_env(device, {tc.distributed.backend, tc.distributed.timeout_seconds});
    if (device.is_cuda() && dist->world_size() > 1 && (tc.device == "auto" || tc.device == "cuda"))
      device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist->local_rank()));
    precision = parse_precision(tc.precision);
    check_precision(precision, device);
    interactive = config.logging.progress && ::isatty(2);

    // Output directory: refuse to mix runs.
    // torchrun restarted the workers after a failure: continue from the last checkpoint.
    const bool resuming = options.resume || !options.resume_from.empty() || dist->launch().restart_count > 0;
    if (main_process() && !resuming && !config.output.overwrite && dir_exists(config.output.dir) &&
        !fs::is_empty(config.output.dir))
      throw InputError("output.dir " + config.output.dir +
                       " exists and is not empty: pass --resume to continue that run, set output.overwrite, or choose another dir");
    make_dirs(config.output.dir);

    // Tokenizer and model config.
    const std::string tok_path = config.tokenizer.path.empty() ? config.model.pretrained : config.tokenizer.path;
    tokenizer = std::shared_ptr<Tokenizer>(load_tokenizer(tok_path));
    if (!config.model.pretrained.empty()) {
      model_config = BertConfig::load(config.model.pretrained + "/config.json");
    } else if (config.model.config.is_string()) {
      model_config = BertConfig::load(config.model.config.get<std::string>());
    } else {
      Json cj = config.model.config;
      if (!cj.contains("vocab_size")) cj["vocab_size"] = static_cast<int64_t>(tokenizer->vocab_size());
      model_config = BertConfig::from_json(cj, "model.config");
    }
    if (model_config.vocab_size < static_cast<int64_t>(tokenizer->vocab_size()))
      throw InputError("model vocab_size " + std::to_string(model_config.vocab_size) + " is smaller than the tokenizer's " +
                       std::to_string(tokenizer->vocab_size()) + " tokens");

    // The task.
    TaskInputs in;
    in.task = config.task;
    in.data = config.data;
    in.tokenizer = tokenizer;
    in.model_config = &model_config;
    in.context.device = device;
    in.context.seed = tc.seed;
    in.context.rank = dist->rank();
    in.context.world_size = dist->world_size();
    in.context.output_dir = config.output.dir;
    in.context.max_seq_length = model_config.max_position_embeddings;
    task = create_task(config.task_type, in);
    task->configure(model_config);
    Architecture arch = config.model.architecture.empty() ? task->architecture()
                                                          : parse_architecture(config.model.architecture);
    metric = task->default_metric();
    if (!config.eval.metric.empty()) {
      metric.name = config.eval.metric;
      metric.greater_is_better = metric.name.find("loss") == std::string::npos && metric.name != "perplexity";
    }
    if (config.eval.greater_is_better) metric.greater_is_better = *config.eval.greater_is_better;

    // The model: seeded init, then pretrained weights when given.
    torch::manual_seed(tc.seed);
    model = create_model(arch, model_config);
    if (!config.model.pretrained.empty()) {
      LoadReport report;
      load_weights(model, read_checkpoint_weights(config.model.pretrained), config.model.pretrained, &report);
      if (main_process() && !report.missing_keys.empty()) {
        std::cerr << "Some weights were newly initialized (not in " << config.model.pretrained << "):";
        for (std::size_t i = 0; i < report.missing_keys.size() && i < 8; ++i) std::cerr << " " << report.missing_keys[i];
        if (report.missing_keys.size() > 8) std::cerr << " ... (" << report.missing_keys.size() << " in all)";
        std::cerr << "\n";
      }
    }
    model->to(device);
    model->train();
    forward_options.sparse_mlm = config.model.sparse_mlm_head;
    forward_options.attention_kernel = config.model.attention == "sdpa" ? AttentionKernel::SDPA : AttentionKernel::Math;

    // Optimizer over named parameters; no decay for biases and LayerNorm.
    auto groups = group_parameters(*model, tc.weight_decay);
    std::vector<std::string> param_names;
    for (const auto& g : groups) {
      params.push_back(g.param);
      param_names.push_back(g.name);
    }
    if (tc.optimizer == "lamb") {
      LambOptions lo;
      lo.lr = tc.learning_rate;
      lo.beta1 = tc.adam_beta1;
      lo.beta2 = tc.adam_beta2;
      lo.eps = tc.adam_epsilon;
      lo.adapt_no_decay = tc.lamb_adapt_no_decay;
      optimizer = std::make_unique<Lamb>(std::move(groups), lo);
    } else {
      AdamWOptions ao;
      ao.lr = tc.learning_rate;
      ao.beta1 = tc.adam_beta1;
      ao.beta2 = tc.adam_beta2;
      ao.eps = tc.adam_epsilon;
      optimizer = std::make_unique<AdamW>(std::move(groups), ao);
    }
    {
      torch::NoGradGuard no_grad;
      dist->broadcast(params);  // every rank starts from rank 0's weights
    }
    data_parallel = std::make_unique<DataParallel>(
        dist, params, param_names, DataParallelOptions{tc.distributed.find_unused_parameters, tc.distributed.bucket_cap_mb});

    // Data and step counts.
    train_data = task->train_dataset();
    const int64_t n = train_data->size();
    const int64_t global_batch = tc.batch_size * dist->world_size();
    const bool drop_last = tc.drop_last || dist->world_size() > 1;
    micro_per_epoch = drop_last ? n / global_batch : (n + global_batch - 1) / global_batch;
    if (micro_per_epoch < 1)
      throw InputError("the training set has " + std::to_string(n) + " examples, fewer than one batch of " +
                       std::to_string(global_batch) + " (train.batch_size x processes)");
    steps_per_epoch = (micro_per_epoch + tc.gradient_accumulation_steps - 1) / tc.gradient_accumulation_steps;
    state.total_steps = tc.max_steps > 0 ? tc.max_steps : tc.epochs * steps_per_epoch;
    state.seed = tc.seed;
    state.world_size = dist->world_size();
    state.best_metric_name = metric.name;

    schedule.type = parse_schedule_type(tc.lr_scheduler, "train.lr_scheduler");
    schedule.base_lr = tc.learning_rate;
    schedule.total_steps = state.total_steps;
    schedule.warmup_steps = resolve_warmup_steps(tc.warmup_steps, tc.warmup_ratio, state.total_steps);
    schedule.power = tc.power;
    schedule.lr_end = tc.lr_end;

    if (precision == Precision::FP16) {
      LossScalerOptions so;
      so.init_scale = tc.fp16_init_scale;
      so.growth_interval = tc.fp16_growth_interval;
      scaler = std::make_unique<DynamicLossScaler>(so);
    }

    if (resuming) resume();

    // Logs (rank 0).
    metrics_path = out("metrics.jsonl");
    if (main_process()) {
      Json resolved = config.to_json();
      Json rt = task->resolved_task_section();
      if (!rt.is_null()) {
        rt["type"] = config.task_type;
        resolved["task"] = rt;
      }
      Json rd = task->resolved_data_section();
      if (!rd.is_null()) resolved["data"] = rd;
      json::save_file(out("run_config.json"), resolved);
      if (config.logging.tensorboard) tb = std::make_unique<TensorBoardWriter>(out("tensorboard"));
    }
  }

  // ---- resume --------------------------------------------------------------
  void resume() {
    std::string dir = options.resume_from;
    if (dir.empty()) {
      auto cps = list_checkpoints(config.output.dir);
      if (cps.empty()) {
        if (main_process()) std::cerr << "resume: no checkpoint in " << config.output.dir << ", starting from scratch\n";
        return;
      }
      dir = cps.back();
    }
    if (!file_exists(dir + "/trainer_state.json"))
      throw InputError(dir + ": not a training checkpoint (no trainer_state.json)");
    TrainerState s = TrainerState::from_json(json::load_file(dir + "/trainer_state.json"), dir + "/trainer_state.json");
    if (s.world_size != dist->world_size())
      throw InputError(dir + ": checkpoint written with " + std::to_string(s.world_size) + " process(es), resuming with " +
                       std::to_string(dist->world_size()) + ": the data order would differ");
    if (s.seed != state.seed)
      throw InputError(dir + ": checkpoint seed " + std::to_string(s.seed) + " differs from train.seed " + std::to_string(state.seed));
    LoadReport report;
    load_weights(model, read_checkpoint_weights(dir), dir, &report);
    auto opt_state = load_safetensors(dir + "/optimizer.safetensors");
    auto rng = opt_state.find("trainer.rng_state.cpu");
    if (rng != opt_state.end()) {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(rng->second);
      opt_state.erase(rng);
    }
    optimizer->load_state_dict(opt_state);
    const int64_t total = state.total_steps;
    const std::string metric_name = state.best_metric_name;
    state = s;
    state.total_steps = total;  // max_steps may have been raised to continue further
    state.best_metric_name = metric_name;
    if (scaler) scaler->set_state(s.loss_scale > 0 ? s.loss_scale : scaler->scale(), s.loss_scale_growth_tracker, s.skipped_steps);
    if (device.is_cuda()) torch::cuda::manual_seed_all(mix_seed(state.seed, static_cast<uint64_t>(state.global_step), 0xC0DA));
    // Drop log lines written after the checkpoint (an interrupted run's tail).
    if (main_process() && file_exists(out("metrics.jsonl"))) {
      std::string kept;
      std::istringstream lines(read_file(out("metrics.jsonl")));
      for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        try {
          if (Json::parse(line).value("step", int64_t{0}) > state.global_step) continue;
        } catch (const std::exception&) {
          continue;  // a half-written line
        }
        kept += line + "\n";
      }
      write_file_atomic(out("metrics.jsonl"), kept);
    }
    if (main_process())
      std::cerr << "resume: " << dir << " (step " << state.global_step << ", epoch " << state.epoch << ", batch "
                << state.micro_batch << ")\n";
  }

  // ---- data order ----------------------------------------------------------
  // The examples of micro-batch `micro` of `epoch` for this process: a seeded
  // permutation per epoch, cut into global batches, each split across ranks.
  std::vector<int64_t> micro_batch_indices(int64_t epoch, int64_t micro) {
    if (epoch_order_of != epoch) {
      const int64_t n = train_data->size();
      epoch_order.resize(n);
      for (int64_t i = 0; i < n; ++i) epoch_order[i] = i;
      std::mt19937_64 rng(mix_seed(state.seed, static_cast<uint64_t>(epoch), 0xDA7A));
      for (int64_t i = n; i > 1; --i) std::swap(epoch_order[i - 1], epoch_order[rng() % static_cast<uint64_t>(i)]);
      epoch_order_of = epoch;
    }
    const int64_t bs = config.train.batch_size, world = dist->world_size();
    const int64_t begin = micro * bs * world + dist->rank() * bs;
    const int64_t end = std::min<int64_t>(begin + bs, static_cast<int64_t>(epoch_order.size()));
    return std::vector<int64_t>(epoch_order.begin() + std::min<int64_t>(begin, end), epoch_order.begin() + end);
  }

  // ---- logging -------------------------------------------------------------
  void log_json(const Json& j) {
    if (!main_process()) return;
    std::ofstream f(metrics_path, std::ios::app);
    f << j.dump() << "\n";
  }
  void log_scalars(const std::string& prefix, const std::map<std::string, double>& values) {
    if (!tb) return;
    for (const auto& [k, v] : values) tb->add_scalar(prefix + k, v, state.global_step);
    tb->flush();
  }

  // ---- evaluation / checkpoints -------------------------------------------
  Metrics evaluate(const std::string& predictions_path = "") {
    if (!task->has_eval()) return {};
    EvalOptions eo;
    eo.device = device;
    eo.batch_size = config.eval.batch_size;
    eo.max_batches = config.eval.max_batches;
    eo.predictions_path = predictions_path;
    eo.seed = mix_seed(state.seed, 0xE7A1);
    eo.forward = forward_options;
    Metrics m;
    model->eval();
    {
      torch::NoGradGuard no_grad;
      AutocastGuard autocast(precision, device);
      m = task->evaluate(*model, eo);
    }
    m = dist->broadcast_metrics(m);  // every rank acts on rank 0's numbers (best model, early stopping)
    model->train();
    return m;
  }

  void write_optimizer_state(const std::string& path) {
    std::map<std::string, torch::Tensor> st;
    for (const auto& [k, v] : optimizer->state_dict()) st[k] = v.detach().cpu();
    st["trainer.rng_state.cpu"] = at::detail::getDefaultCPUGenerator().get_state();
    save_safetensors(path, st, {{"format", "bertkit-optimizer"}, {"optimizer", config.train.optimizer}});
  }

  void save_checkpoint() {
    if (scaler) {
      state.loss_scale = scaler->scale();
      state.loss_scale_growth_tracker = scaler->growth_tracker();
      state.skipped_steps = scaler->skipped_steps();
    }
    if (main_process()) {
      const std::string dir = out("checkpoint-" + std::to_string(state.global_step));
      save_pretrained(model, dir, SaveDType::F32, [&](const std::string& tmp) {
        write_optimizer_state(tmp + "/optimizer.safetensors");
        json::save_file(tmp + "/trainer_state.json", state.to_json());
        tokenizer->save(tmp);
      });
      // Keep the newest keep_last.
      if (config.checkpoint.keep_last > 0) {
        auto cps = list_checkpoints(config.output.dir);
        for (std::size_t i = 0; i + config.checkpoint.keep_last < cps.size(); ++i) {
          std::error_code ec;
          fs::remove_all(cps[i], ec);
        }
      }
    }
    dist->barrier();
  }

  // Evaluate, log, track the best model; returns true when early stopping fires.
  bool evaluate_and_track(TrainResult& result) {
    Metrics m = evaluate();
    if (m.empty()) return false;
    result.last_eval = m;
    Json j = {{"step", state.global_step}, {"epoch", epoch_float()}};
    for (const auto& [k, v] : m) j["eval_" + k] = v;
    log_json(j);
    log_scalars("eval/", m);
    if (main_process()) {
      std::string line;
      for (const auto& [k, v] : m) {
        char buf[96];
        std::snprintf(buf, sizeof(buf), "%s%s %.4g", line.empty() ? "" : ", ", k.c_str(), v);
        line += buf;
      }
      if (interactive) std::cerr << "\n";
      std::cerr << "eval @ step " << state.global_step << ": " << line << "\n";
    }
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
      if (config.eval.load_best_at_end && main_process()) save_pretrained(model, out("best"), SaveDType::F32);
      dist->barrier();
    } else {
      ++state.evals_without_improvement;
    }
    return config.eval.early_stopping_patience > 0 &&
           state.evals_without_improvement >= config.eval.early_stopping_patience;
  }

  double epoch_float() const {
    return static_cast<double>(state.epoch) + static_cast<double>(state.micro_batch) / static_cast<double>(micro_per_epoch);
  }

  // ---- the loop ------------------------------------------------------------
  TrainResult run() {
    TrainResult result;
    const auto t0 = std::chrono::steady_clock::now();
    auto now = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    const int64_t start_step = state.global_step;
    const int64_t accum = config.train.gradient_accumulation_steps;
    int64_t tokens_since_log = 0;
    double time_of_log = 0;
    bool stop = false;

    if (main_process())
      std::cerr << "train: " << config.task_type << ", " << train_data->size() << " examples, "
                << steps_per_epoch << " steps/epoch, " << state.total_steps << " steps, batch "
                << config.train.batch_size << " x " << accum << " accumulation x " << dist->world_size()
                << " process(es), " << device.str() << ", " << precision_name(precision) << "\n";

    while (state.global_step < state.total_steps && !stop) {
      // One optimizer step = up to `accum` micro-batches of this epoch.
      const int64_t n_micro = std::min(accum, micro_per_epoch - state.micro_batch);
      double step_loss = 0;
      std::map<std::string, double> parts;
      for (int64_t m = 0; m < n_micro; ++m) {
        // batch: input_ids/labels [B, T] (CPU) -> device
        auto indices = micro_batch_indices(state.epoch, state.micro_batch);
        Batch batch = train_data->collate(indices, mix_seed(state.seed, static_cast<uint64_t>(state.epoch),
                                                            static_cast<uint64_t>(state.micro_batch)));
        const int64_t tokens = train_data->count_tokens(batch);
        batch = batch.to(device);
        // forward: loss scalar (mean over this micro-batch)
        ModelOutput output;
        {
          AutocastGuard autocast(precision, device);
          output = model->forward(batch, forward_options);
        }
        if (!output.loss.defined()) throw RuntimeError("the model returned no loss: does the task's batch carry labels?");
        // backward: gradients accumulate over the micro-batches of this step
        torch::Tensor loss = output.loss.to(torch::kFloat) / static_cast<double>(n_micro);
        data_parallel->before_backward(loss, /*sync=*/m == n_micro - 1);
        (scaler ? scaler->scale_loss(loss) : loss).backward();
        step_loss += loss.item<double>();
        if (output.mlm_loss.defined()) parts["mlm_loss"] += output.mlm_loss.item<double>() / n_micro;
        if (output.nsp_loss.defined()) parts["nsp_loss"] += output.nsp_loss.item<double>() / n_micro;
        state.tokens_seen += tokens;
        tokens_since_log += tokens;
        ++state.micro_batch;
      }
      // update: average gradients across processes, unscale (fp16), clip, step
      data_parallel->synchronize_gradients();
      bool found_inf = scaler ? !scaler->unscale_and_check(params) : false;
      double grad_norm = std::nan("");
      if (!found_inf && config.train.max_grad_norm > 0)
        grad_norm = torch::nn::utils::clip_grad_norm_(params, config.train.max_grad_norm);
      const double lr = schedule.lr(state.global_step);
      optimizer->set_lr(lr);
      if (!found_inf) optimizer->step();
      if (scaler) scaler->update(found_inf);
      optimizer->zero_grad();
      ++state.global_step;
      if (dist->world_size() > 1) {
        std::vector<double> sums = dist->all_reduce_sum({step_loss, static_cast<double>(tokens_since_log)});
        step_loss = sums[0] / dist->world_size();
      }
      result.step_loss[state.global_step] = step_loss;
      bool epoch_end = false;
      if (state.micro_batch >= micro_per_epoch) {
        ++state.epoch;
        state.micro_batch = 0;
        epoch_end = true;
      }

      // log
      const bool last = state.global_step >= state.total_steps;
      if (state.global_step % config.logging.every_steps == 0 || last || found_inf) {
        const double t = now();
        const double tok_s = static_cast<double>(tokens_since_log) * dist->world_size() / std::max(1e-9, t - time_of_log);
        std::map<std::string, double> scalars = {{"loss", step_loss}, {"lr", lr}, {"tokens_per_second", tok_s}};
        if (std::isfinite(grad_norm)) scalars["grad_norm"] = grad_norm;
        if (scaler) {
          scalars["loss_scale"] = scaler->scale();
          scalars["skipped_steps"] = static_cast<double>(scaler->skipped_steps());
        }
        for (const auto& [k, v] : parts) scalars[k] = v;
        Json j = {{"step", state.global_step}, {"epoch", epoch_float()}};
        for (const auto& [k, v] : scalars) j[k] = v;
        log_json(j);
        log_scalars("train/", scalars);
        if (main_process() && config.logging.progress) {
          const double per_step = t / static_cast<double>(state.global_step - start_step);
          const double eta = per_step * static_cast<double>(state.total_steps - state.global_step);
          char buf[256];
          std::snprintf(buf, sizeof(buf), "step %lld/%lld | loss %.4f | lr %.3e | %.0f tok/s | %s elapsed | ETA %s%s",
                        static_cast<long long>(state.global_step), static_cast<long long>(state.total_steps), step_loss,
                        lr, tok_s, format_duration(t).c_str(), format_duration(eta).c_str(),
                        found_inf ? " | fp16 overflow: step skipped" : "");
          if (interactive) std::cerr << "\r" << buf << "\033[K" << std::flush;
          else std::cerr << buf << "\n";
        }
        tokens_since_log = 0;
        time_of_log = t;
      }

      // evaluate (its time is kept out of tokens/s)
      const double pause_start = now();
      const bool eval_now = (config.eval.every_steps > 0 && state.global_step % config.eval.every_steps == 0) ||
                            (config.eval.per_epoch && epoch_end) || (last && config.eval.at_end);
      if (eval_now && evaluate_and_track(result)) {
        result.stopped_early = true;
        stop = true;
        if (main_process()) std::cerr << "early stopping: no improvement of " << metric.name << " in "
                                      << state.evals_without_improvement << " evaluations\n";
      }
      // checkpoint
      const bool interrupt = options.stop_after_steps > 0 && state.global_step >= options.stop_after_steps && !last;
      if ((config.checkpoint.every_steps > 0 && state.global_step % config.checkpoint.every_steps == 0) ||
          ((last || stop) && config.checkpoint.at_end) || interrupt)
        save_checkpoint();
      if (interrupt) {
        result.interrupted = true;
        stop = true;
      }
      time_of_log += now() - pause_start;
    }
    if (interactive && main_process()) std::cerr << "\n";

    result.global_step = state.global_step;
    result.seconds = now();
    result.tokens_per_second = static_cast<double>(state.tokens_seen) / std::max(1e-9, result.seconds);
    result.skipped_steps = scaler ? scaler->skipped_steps() : 0;
    result.best_metric = state.best_metric;
    result.best_step = state.best_step;
    if (result.interrupted) return result;

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
    return result;
  }
};

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
