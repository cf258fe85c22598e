// What a run config resolves to before any weight is read, in one place for
// the trainer and for `bertkit train --print-config`:
//
//   resolve_model_sources   Hub ids -> local snapshot dirs; tokenizer.path
//                           defaults to model.pretrained
//   load_run_tokenizer      the tokenizer at tokenizer.path
//   load_run_model_config   model.pretrained's config.json, or model.config
//   create_run_task         the task built on its data (labels read there),
//                           the model config adjusted by it (num_labels, ...)
//   run_metric              eval.metric / greater_is_better, else the task's
//   resolved_run_json       the config with all of the above filled in: what
//                           OUTPUT/run_config.json holds
//
// resolve_run_config() chains them for a config that is not trained (no
// output directory is made, no weights are read).
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "bertkit/models/config.h"
#include "bertkit/tokenizers/tokenizer.h"
#include "bertkit/training/run_config.h"
#include "bertkit/training/task.h"

namespace bertkit {

void resolve_model_sources(RunConfig& config);
std::shared_ptr<Tokenizer> load_run_tokenizer(const RunConfig& config);
BertConfig load_run_model_config(const RunConfig& config, const Tokenizer& tokenizer);
// Builds the task named by task.type (InputError naming task.type when unknown)
// and lets it configure `model_config`.
std::unique_ptr<Task> create_run_task(const RunConfig& config, std::shared_ptr<Tokenizer> tokenizer,
                                      BertConfig& model_config, const RunContext& context);
MetricSpec run_metric(const EvalSection& eval, const Task& task);
nlohmann::json resolved_run_json(const RunConfig& config, const Task& task, const MetricSpec& metric);

// The whole resolution of `config` as a single-process run on
// train.device would do it; returns resolved_run_json.
nlohmann::json resolve_run_config(RunConfig config);

}  // namespace bertkit
