// A run config resolved before any weight is read (include/bertkit/training/resolved_run.h):
// the steps the trainer's setup takes, and the JSON it saves as run_config.json.
#include "bertkit/training/resolved_run.h"

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"
#include "bertkit/hub/resolve.h"
#include "bertkit/training/device.h"

namespace bertkit {

using json::Json;

void resolve_model_sources(RunConfig& config) {
  // Hub ids -> local snapshot directories, once, here (docs/hub.md); errors name the key.
  if (!config.model.pretrained.empty())
    config.model.pretrained = hub::resolve_model_dir(config.model.pretrained, "model.pretrained");
  if (!config.tokenizer.path.empty())
    config.tokenizer.path = hub::resolve_model_dir(config.tokenizer.path, "tokenizer.path");
  else
    config.tokenizer.path = config.model.pretrained;
}

std::shared_ptr<Tokenizer> load_run_tokenizer(const RunConfig& config) {
  return std::shared_ptr<Tokenizer>(load_tokenizer(config.tokenizer.path));
}

BertConfig load_run_model_config(const RunConfig& config, const Tokenizer& tokenizer) {
  BertConfig model_config;
  if (!config.model.pretrained.empty()) {
    model_config = BertConfig::load(config.model.pretrained + "/config.json");
  } else if (config.model.config.is_string()) {
    model_config = BertConfig::load(config.model.config.get<std::string>());
  } else {
    Json cj = config.model.config;
    if (!cj.contains("vocab_size")) cj["vocab_size"] = static_cast<int64_t>(tokenizer.vocab_size());
    model_config = BertConfig::from_json(cj, "model.config");
  }
  if (model_config.vocab_size < static_cast<int64_t>(tokenizer.vocab_size()))
    throw InputError("model vocab_size " + std::to_string(model_config.vocab_size) + " is smaller than the tokenizer's " +
                     std::to_string(tokenizer.vocab_size()) + " tokens");
  return model_config;
}

std::unique_ptr<Task> create_run_task(const RunConfig& config, std::shared_ptr<Tokenizer> tokenizer,
                                      BertConfig& model_config, const RunContext& context) {
  TaskInputs in;
  in.task = config.task;
  in.data = config.data;
  in.tokenizer = std::move(tokenizer);
  in.model_config = &model_config;
  in.context = context;
  in.context.seed = config.train.seed;
  in.context.output_dir = config.output.dir;
  in.context.max_seq_length = model_config.max_position_embeddings;
  auto task = create_task(config.task_type, in);
  task->configure(model_config);
  return task;
}

MetricSpec run_metric(const EvalSection& eval, const Task& task) {
  MetricSpec metric = task.default_metric();
  if (!eval.metric.empty()) {
    metric.name = eval.metric == "eval_loss" ? "loss" : eval.metric;  // as written in metrics.jsonl
    metric.greater_is_better = metric.name.find("loss") == std::string::npos && metric.name != "perplexity";
  }
  if (eval.greater_is_better) metric.greater_is_better = *eval.greater_is_better;
  return metric;
}

Json resolved_run_json(const RunConfig& config, const Task& task, const MetricSpec& metric) {
  Json resolved = config.to_json();
  Json rt = task.resolved_task_section();
  if (!rt.is_null()) {
    rt["type"] = config.task_type;
    resolved["task"] = rt;
  }
  Json rd = task.resolved_data_section();
  if (!rd.is_null()) resolved["data"] = rd;
  resolved["eval"]["metric"] = metric.name;
  resolved["eval"]["greater_is_better"] = metric.greater_is_better;
  return resolved;
}

Json resolve_run_config(RunConfig config) {
  RunContext context;
  context.device = parse_device(config.train.device);
  resolve_model_sources(config);
  auto tokenizer = load_run_tokenizer(config);
  BertConfig model_config = load_run_model_config(config, *tokenizer);
  auto task = create_run_task(config, tokenizer, model_config, context);
  return resolved_run_json(config, *task, run_metric(config.eval, *task));
}

}  // namespace bertkit
