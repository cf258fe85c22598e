// Building a run from its config (Trainer::Impl::setup, in the order the run
// needs its parts) and resuming one from a checkpoint.
#include <filesystem>
#include <iostream>
#include <mutex>

#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>

#include "bertkit/core/checksums.h"
#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/data/masking.h"
#include "bertkit/nn/cpu_threads.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/nn/tensor_io.h"
#include "bertkit/training/device.h"
#include "bertkit/training/resolved_run.h"
#include "trainer_impl.h"

namespace fs = std::filesystem;

namespace bertkit {

using json::Json;

void Trainer::Impl::setup() {
  choose_device();
  // torchrun restarted the workers after a failure: continue from the last checkpoint.
  const bool resuming = options.resume || !options.resume_from.empty() || dist->launch().restart_count > 0;
  prepare_output_dir(resuming);
  load_tokenizer_and_model_config();
  create_task_and_metric();
  create_model();
  create_optimizer();
  plan_steps();
  create_schedule_and_scaler();
  if (resuming) resume();
  create_data_loader();
  make_dirs(config.output.dir);  // only now: bad input found above leaves no empty run folder behind
  if (!resuming) start_fresh_log();
  write_run_config();
}

// A new run in an overwritten output.dir: metrics.jsonl is appended to as the run goes,
// so an earlier run's lines must go first (they were mixed into the new run's log).
void Trainer::Impl::start_fresh_log() {
  if (main_process() && file_exists(out("metrics.jsonl"))) write_file_atomic(out("metrics.jsonl"), "");
}

void Trainer::Impl::choose_device() {
  const auto& tc = config.train;
  set_cpu_threads(static_cast<int>(tc.num_threads));  // torch and OpenBLAS alike
  device = parse_device(tc.device);
  dist = Distributed::from_env(device, {tc.distributed.backend, tc.distributed.timeout_seconds});
  if (device.is_cuda() && dist->world_size() > 1 && (tc.device == "auto" || tc.device == "cuda"))
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist->local_rank()));
  precision = parse_precision(tc.precision);
  check_precision(precision, device);
  interactive = config.logging.progress && ::isatty(2);
}

// Refuse to mix runs (the folder itself is made once the run's inputs are read).
void Trainer::Impl::prepare_output_dir(bool resuming) {
  if (main_process() && !resuming && !config.output.overwrite && dir_exists(config.output.dir) &&
      !fs::is_empty(config.output.dir))
    throw InputError("output.dir " + config.output.dir +
                     " exists and is not empty: pass --resume to continue that run, set output.overwrite, or choose another dir");
  if (fs::exists(config.output.dir) && !dir_exists(config.output.dir))
    throw InputError("output.dir " + config.output.dir + ": exists and is not a directory");
}

// The steps of resolved_run.h, shared with `train --print-config`.
void Trainer::Impl::load_tokenizer_and_model_config() {
  resolve_model_sources(config);
  tokenizer = load_run_tokenizer(config);
  model_config = load_run_model_config(config, *tokenizer);
}

void Trainer::Impl::create_task_and_metric() {
  RunContext context;
  context.device = device;
  context.rank = dist->rank();
  context.world_size = dist->world_size();
  task = create_run_task(config, tokenizer, model_config, context);
  metric = run_metric(config.eval, *task);
  if (config.eval.every_steps > 0 && !task->has_eval() && main_process())
    std::cerr << "warning: eval.every_steps is " << config.eval.every_steps
              << " but there is no evaluation data (data.eval, or shards without an eval split): no evaluation\n";
}

// A seeded init, then pretrained weights when given.
void Trainer::Impl::create_model() {
  Architecture arch = config.model.architecture.empty() ? task->architecture()
                                                        : parse_architecture(config.model.architecture);
  torch::manual_seed(config.train.seed);
  model = bertkit::create_model(arch, model_config);
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
}

// The optimizer over named parameters; no decay for biases and LayerNorm.
void Trainer::Impl::create_optimizer() {
  const auto& tc = config.train;
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
}

// The data order and the step counts it gives.
void Trainer::Impl::plan_steps() {
  const auto& tc = config.train;
  train_data = task->train_dataset();
  BatchSamplerOptions so;
  so.seed = tc.seed;
  so.batch_size = tc.batch_size;
  so.rank = dist->rank();
  so.world_size = dist->world_size();
  so.drop_last = tc.drop_last;
  so.group_by_length = tc.group_by_length;
  so.examples_per_step = tc.batch_size * tc.gradient_accumulation_steps * dist->world_size();
  BatchLoaderOptions lo;
  lo.workers = tc.dataloader_workers;
  lo.device = device;
  loader = std::make_unique<BatchLoader>(train_data, BatchSampler(*train_data, so), lo);
  micro_per_epoch = loader->sampler().micro_batches_per_epoch();
  steps_per_epoch = (micro_per_epoch + tc.gradient_accumulation_steps - 1) / tc.gradient_accumulation_steps;
  state.total_steps = tc.max_steps > 0 ? tc.max_steps : tc.epochs * steps_per_epoch;
  state.seed = tc.seed;
  state.world_size = dist->world_size();
  state.best_metric_name = metric.name;
}

// Start making batches from the run's position (after resume()).
void Trainer::Impl::create_data_loader() { loader->start({state.epoch, state.micro_batch}); }

void Trainer::Impl::create_schedule_and_scaler() {
  const auto& tc = config.train;
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
}

// run_config.json (resolved_run_json: the config as this run resolved it) and TensorBoard, on rank 0.
void Trainer::Impl::write_run_config() {
  metrics_path = out("metrics.jsonl");
  if (!main_process()) return;
  json::save_file(out("run_config.json"), resolved_run_json(config, *task, metric));
  if (config.logging.tensorboard) tb = std::make_unique<TensorBoardWriter>(out("tensorboard"));
}

void Trainer::Impl::resume() {
  if (main_process()) remove_unfinished_writes();
  dist->barrier();
  std::string dir = options.resume_from;
  if (dir.empty()) {
    dir = newest_intact_checkpoint();
    if (dir.empty()) {
      if (main_process()) std::cerr << "resume: no checkpoint in " << config.output.dir << ", starting from scratch\n";
      return;
    }
  } else {
    if (!file_exists(dir + "/trainer_state.json"))
      throw InputError(dir + ": not a training checkpoint (no trainer_state.json)");
    ChecksumReport check = verify_checksums(dir);
    if (!check.ok()) throw InputError("--resume-from " + dir + ": " + check.problem);
  }
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
  drop_log_lines_after_checkpoint();
  dist->barrier();  // every process has read its checkpoint
  if (main_process() && options.resume_from.empty()) set_aside_checkpoints_after(state.global_step);
  if (main_process())
    std::cerr << "resume: " << dir << " (step " << state.global_step << ", epoch " << state.epoch << ", batch "
              << state.micro_batch << ")\n";
}

// The newest checkpoint whose files match checksums.json ("" when there is
// none); a damaged one is reported and the one before it tried.
std::string Trainer::Impl::newest_intact_checkpoint() {
  auto cps = list_checkpoints(config.output.dir);
  for (auto it = cps.rbegin(); it != cps.rend(); ++it) {
    ChecksumReport check = verify_checksums(*it);
    if (check.ok()) {
      if (!check.has_manifest && main_process())
        std::cerr << "resume: " << *it << " has no " << kChecksumsFile << " (written before bertkit recorded them): not verified\n";
      return *it;
    }
    if (main_process()) std::cerr << "resume: " << *it << " is damaged: " << check.problem << "; trying the previous checkpoint\n";
  }
  if (!cps.empty())
    throw InputError(config.output.dir + ": every checkpoint-* is damaged (see above); nothing to resume from");
  return "";
}

// Checkpoints after the one resumed from are damaged ones (newest_intact_checkpoint
// passed them): renamed checkpoint-<k>.damaged, kept for inspection but no
// longer counted by keep_last or found by --resume.
void Trainer::Impl::set_aside_checkpoints_after(int64_t step) {
  for (const auto& cp : list_checkpoints(config.output.dir)) {
    if (std::stoll(fs::path(cp).filename().string().substr(11)) <= step) continue;
    std::string aside = cp + ".damaged";
    for (int i = 1; fs::exists(aside); ++i) aside = cp + ".damaged." + std::to_string(i);
    std::error_code ec;
    fs::rename(cp, aside, ec);
    std::cerr << "resume: set " << cp << " aside as " << aside << "\n";
  }
}

// What a crash left of writes in progress: temporary directories of
// write_dir_atomic (NAME.tmp.PID.N) and checkpoints being pruned
// (checkpoint-<k>.deleting). None of them is complete or needed.
void Trainer::Impl::remove_unfinished_writes() {
  std::error_code ec;
  if (!fs::is_directory(config.output.dir, ec)) return;
  std::vector<fs::path> leftovers;
  for (const auto& e : fs::directory_iterator(config.output.dir, ec)) {
    const std::string name = e.path().filename().string();
    const bool ours = name.rfind("checkpoint-", 0) == 0 || name.rfind("model.", 0) == 0 || name.rfind("best.", 0) == 0;
    const bool unfinished = name.find(".tmp.") != std::string::npos ||
                            (name.size() > 9 && name.compare(name.size() - 9, 9, ".deleting") == 0);
    if (e.is_directory() && ours && unfinished) leftovers.push_back(e.path());
  }
  for (const auto& p : leftovers) {
    std::cerr << "resume: removing " << p.string() << " (left by an interrupted write)\n";
    fs::remove_all(p, ec);
  }
}

}  // namespace bertkit
