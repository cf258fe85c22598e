// The task interface: what the trainer needs from pretraining, classification,
// NER, QA, ... Each task parses its own `task` and `data` sections of the run
// config (strictly, with core/json.h: unknown keys are errors naming the path),
// builds its datasets with the run's tokenizer, and evaluates a model.
//
// The trainer owns everything generic: data order (epoch-seeded shuffling,
// sharding across ranks, the resumable position (epoch, index) stored in
// trainer_state.json), the optimisation loop, precision, checkpoints, logging,
// best-checkpoint selection and early stopping.
//
// Tasks are found by name (create_task). The built-in tasks ("pretraining",
// "mlm", the fine-tuning tasks) live in the tasks layer and are added by
// bertkit::register_builtin_tasks() (bertkit/tasks/registry.h), which the CLI
// calls at start-up. A task of your own:
//
//   bertkit::register_task("my_task", [](const bertkit::TaskInputs& in) {
//     return std::make_unique<MyTask>(in);
//   });
//
// (Registration is an explicit call: a static registration object inside a
// shared library is dropped by a static link or --as-needed.)
//
// Legend: B batch, T tokens.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "bertkit/models/bert_model.h"
#include "bertkit/models/config.h"
#include "bertkit/nn/batch.h"
#include "bertkit/tokenizers/tokenizer.h"

namespace bertkit {

using Metrics = std::map<std::string, double>;

// What a task's factory can know about the run.
struct RunContext {
  torch::Device device = torch::kCPU;
  uint64_t seed = 42;
  int rank = 0;           // distributed rank (0 when single-process)
  int world_size = 1;
  std::string output_dir; // the run's output directory (exists when the factory runs)
  int64_t max_seq_length = 512;  // the model's max_position_embeddings, an upper bound for T
};

// A finite, indexable set of examples. The trainer picks the indices (shuffled
// per epoch with the run seed, sharded across ranks) and asks for batches.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Collate the examples `indices` into one Batch (CPU tensors, padded as the
  // task wants). `seed` drives every random choice made at batch time (MLM
  // masking), so the same (indices, seed) always gives the same Batch.
  virtual Batch collate(const std::vector<int64_t>& indices, uint64_t seed) const = 0;
  // Tokens of real input in a batch (for tokens/s); default Batch::num_tokens().
  virtual int64_t count_tokens(const Batch& batch) const { return batch.num_tokens(); }
  // The length of example `i` in tokens, for length-grouped batching
  // (train.group_by_length). The default collates the example alone; datasets
  // that know their lengths answer directly.
  virtual int64_t example_length(int64_t i) const { return count_tokens(collate({i}, 0)); }
};

// Options for one evaluation pass.
struct EvalOptions {
  torch::Device device = torch::kCPU;
  int64_t batch_size = 32;
  int64_t max_batches = 0;         // 0: the whole eval set
  std::string predictions_path;    // non-empty: write one JSON object per example (JSONL)
  uint64_t seed = 0;               // for tasks whose eval batches are random (MLM masking)
  ForwardOptions forward;          // the run's attention kernel / sparse MLM head choice
  // When set, called after each batch with the examples done and their total
  // (fine-tuning tasks; `bertkit evaluate` shows it as a progress line).
  std::function<void(int64_t done, int64_t total)> on_progress;
  // Data-parallel evaluation: this process runs evaluation batches rank,
  // rank + world_size, ... and `sum_over_processes` adds a vector (of the same
  // length everywhere) over every process, so that each computes the metrics
  // of the whole set. Unset: one process runs every batch.
  int rank = 0;
  int world_size = 1;
  std::function<std::vector<double>(const std::vector<double>&)> sum_over_processes;
  bool shared_out() const { return world_size > 1 && sum_over_processes != nullptr; }
  bool runs_batch(int64_t batch) const { return !shared_out() || batch % world_size == rank; }
  std::vector<double> sum(std::vector<double> values) const {
    return shared_out() ? sum_over_processes(values) : values;
  }
};

// Which metric picks the best checkpoint (and drives early stopping).
struct MetricSpec {
  std::string name;                // a key of evaluate()'s Metrics, e.g. "accuracy", "f1", "eval_loss"
  bool greater_is_better = true;
};

class Task {
 public:
  virtual ~Task() = default;
  // The registered name ("pretraining", "classification", "ner", "qa", ...).
  virtual std::string name() const = 0;
  // The head to train.
  virtual Architecture architecture() const = 0;
  // Adjust the model config before the model is created or loaded:
  // num_labels, id2label/label2id, problem_type, ...
  virtual void configure(BertConfig& config) const {}
  // The training set.
  virtual std::shared_ptr<Dataset> train_dataset() = 0;
  // Whether evaluate() has anything to evaluate (an eval/dev set).
  virtual bool has_eval() const { return false; }
  // Evaluate `model` (put in eval mode by the caller, under NoGradGuard and the
  // run's autocast precision; the model is on options.device) on
  // the eval set; returns metric name -> value. Every rank calls it; a task
  // may evaluate on rank 0 only and return the same metrics elsewhere.
  virtual Metrics evaluate(BertPreTrainedModelImpl& model, const EvalOptions& options) {
    return {};
  }
  // The default metric for best-checkpoint selection (overridable in `eval`).
  // (metrics.jsonl and eval logs prefix every metric with "eval_")
  virtual MetricSpec default_metric() const { return {"loss", false}; }
  // The task's resolved `task` and `data` sections (defaults filled in), saved
  // with the resolved run config. Return nullptr to keep them as given.
  virtual nlohmann::json resolved_task_section() const { return nullptr; }
  virtual nlohmann::json resolved_data_section() const { return nullptr; }
};

// Everything a task factory receives.
struct TaskInputs {
  // The `task` section without its "type" key, and the `data` section (null
  // when absent). Parse both with json::ObjectReader(section, task_path) /
  // (data, data_path) and call finish() so unknown keys are errors.
  nlohmann::json task;
  nlohmann::json data;
  std::string task_path = "task";
  std::string data_path = "data";
  // The run's tokenizer (from `tokenizer.path`, else the pretrained model dir).
  std::shared_ptr<Tokenizer> tokenizer;
  // The model config when known (pretrained dir or `model.config`), else null.
  const BertConfig* model_config = nullptr;
  RunContext context;
};

using TaskFactory = std::function<std::unique_ptr<Task>(const TaskInputs&)>;

// Register `factory` under `name`. Throws RuntimeError on a duplicate name.
void register_task(const std::string& name, TaskFactory factory);
// Build the task registered under `name`; InputError listing the known names otherwise.
std::unique_ptr<Task> create_task(const std::string& name, const TaskInputs& inputs);
std::vector<std::string> task_names();

}  // namespace bertkit
