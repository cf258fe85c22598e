// The run config (docs/architecture.md): one JSON file, one struct per
// section, field names = JSON keys. Unknown keys and wrong types are
// InputErrors naming the key path; `--set a.b=value` overrides apply to the
// JSON before parsing; to_json() gives the resolved config saved next to the outputs.
//
//   {
//     "model":      {...ModelSection},
//     "tokenizer":  {...TokenizerSection},
//     "task":       {"type": "pretraining", ...parsed by the task},
//     "data":       {...parsed by the task},
//     "train":      {...TrainSection},
//     "eval":       {...EvalSection},
//     "logging":    {...LoggingSection},
//     "checkpoint": {...CheckpointSection},
//     "output":     {...OutputSection}
//   }
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bertkit {

struct ModelSection {
  std::string pretrained;                   // HF model directory to start from; "" = from scratch
  nlohmann::json config;                    // from scratch: a config.json path or an inline object
                                            // (vocab_size defaults to the tokenizer's)
  std::string architecture;                 // "" = the task's
  bool sparse_mlm_head = true;              // MLM head only on masked positions (pretraining)
  std::string attention = "math";           // math | sdpa (LibTorch >= 2.0)
};

struct TokenizerSection {
  std::string path;                         // dir / vocab.txt / .model; "" = model.pretrained
};

// train.distributed: how processes launched by torchrun (or with its
// variables) talk to each other; ignored in a single process.
struct DistributedSection {
  std::string backend = "auto";             // auto (NCCL on CUDA, Gloo on CPU) | nccl | gloo
  double timeout_seconds = 300;             // rendezvous and every collective: a dead rank fails the others after this
  bool find_unused_parameters = false;      // as DDP's: for models whose loss does not reach every parameter
  double bucket_cap_mb = 25;                // as DDP's bucket_cap_mb (the first bucket is 1 MiB)
};

struct TrainSection {
  std::string device = "auto";              // auto | cpu | cuda | cuda:N
  uint64_t seed = 42;
  std::string optimizer = "adamw";          // adamw | lamb
  double learning_rate = 5e-5;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;
  bool lamb_adapt_no_decay = false;         // LAMB trust ratio on biases/LayerNorm too (NVLAMB)
  std::string lr_scheduler = "linear";      // linear | cosine | polynomial | constant
  int64_t warmup_steps = 0;
  double warmup_ratio = 0.0;                // used when warmup_steps is 0
  double lr_end = 1e-7;                     // polynomial
  double power = 1.0;                       // polynomial
  int64_t max_steps = -1;                   // > 0: stop after this many optimizer steps (overrides epochs)
  int64_t epochs = 3;
  int64_t batch_size = 8;                   // per device (per process)
  int64_t gradient_accumulation_steps = 1;
  double max_grad_norm = 1.0;               // <= 0: no clipping
  std::string precision = "fp32";           // fp32 | bf16 | fp16 (CUDA)
  double fp16_init_scale = 65536.0;
  int64_t fp16_growth_interval = 2000;
  std::string nan_policy = "stop";          // a non-finite (inf/NaN) loss in fp32/bf16: stop | skip (the step)
  int num_threads = 0;                      // CPU intra-op threads; 0 = LibTorch's default
  bool drop_last = false;                   // drop an incomplete last batch of an epoch (always with >1 process)
  int dataloader_workers = 1;               // threads collating the next batches during a step (0: on the training thread)
  bool group_by_length = false;             // HF's group_by_length: batches of similar lengths (megabatches sorted by length)
  DistributedSection distributed;           // train.distributed: used when launched with WORLD_SIZE > 1
};

struct EvalSection {
  int64_t every_steps = 0;                  // > 0: evaluate every N optimizer steps
  bool per_epoch = true;                    // evaluate at each epoch's end
  bool at_end = true;                       // evaluate after the last step
  int64_t batch_size = 32;
  int64_t max_batches = 0;                  // 0: the whole eval set
  std::string metric;                       // best-checkpoint metric; "" = the task's
  std::optional<bool> greater_is_better;    // default: the task's (or true unless the name has "loss")
  int64_t early_stopping_patience = 0;      // > 0: stop after N evaluations without improvement
  double early_stopping_threshold = 0.0;    // minimum improvement that counts
  bool load_best_at_end = true;             // restore the best checkpoint before export
  bool predictions = false;                 // write predictions JSONL of the final evaluation
};

struct LoggingSection {
  int64_t every_steps = 10;                 // metrics.jsonl / TensorBoard / progress refresh
  bool progress = true;                     // progress bar on stderr
  bool tensorboard = true;                  // <output.dir>/tensorboard/events.out.tfevents.*
};

struct CheckpointSection {
  int64_t every_steps = 0;                  // > 0: checkpoint-<step>/ every N optimizer steps
  int64_t keep_last = 2;                    // keep the newest K checkpoint-* dirs (0: keep all)
  bool at_end = true;                       // a checkpoint after the last step too
};

struct OutputSection {
  std::string dir;                          // required
  std::string dtype = "fp32";               // exported model dtype: fp32 | fp16 | bf16
  bool overwrite = false;                   // allow a non-empty dir without --resume
};

struct RunConfig {
  ModelSection model;
  TokenizerSection tokenizer;
  std::string task_type;                    // task.type
  nlohmann::json task;                      // task section without "type"
  nlohmann::json data;                      // data section (null when absent)
  TrainSection train;
  EvalSection eval;
  LoggingSection logging;
  CheckpointSection checkpoint;
  OutputSection output;

  // Parse (strict); `where` names the file in messages of whole-file problems.
  static RunConfig from_json(const nlohmann::json& j);
  // load_file + apply --set overrides + from_json.
  static RunConfig load(const std::string& path, const std::vector<std::string>& overrides = {});
  // Every field, defaults included; task/data as given (or the task's resolved sections).
  nlohmann::json to_json() const;
};

}  // namespace bertkit
