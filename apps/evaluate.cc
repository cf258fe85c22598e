// bertkit evaluate: a fine-tuned checkpoint + a dataset -> metrics JSON.
#include <iostream>
#include <memory>
#include <optional>

#include <torch/torch.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "bertkit/core/progress.h"
#include "bertkit/models/checkpoint.h"
#include "bertkit/models/config.h"
#include "bertkit/tasks/finetune.h"
#include "bertkit/training/device.h"
#include "bertkit/training/task.h"
#include "bertkit/hub/resolve.h"
#include "command.h"

namespace bertkit::cli {
namespace {

struct EvalArgs {
  std::string model, config, task, data, output, predictions, device = "cpu";
  std::vector<std::string> sets;
  int64_t batch_size = 32;
};

int run_evaluate(const EvalArgs& a) {
  json::Json root = json::Json::object();
  if (!a.config.empty()) root = json::load_file(a.config);
  json::apply_overrides(root, a.sets);
  json::Json task = root.contains("task") ? root["task"] : json::Json::object();
  json::Json data = root.contains("data") ? root["data"] : json::Json::object();
  std::string type = a.task;
  if (type.empty()) {
    if (!task.contains("type") || !task["type"].is_string())
      throw InputError("evaluate: give --task (classification, ner, qa) or --config with task.type");
    type = task["type"].get<std::string>();
  }
  task.erase("type");
  data.erase("train");  // only the evaluation set is read
  if (!a.data.empty()) data["eval"] = a.data;
  if (!data.contains("eval")) throw InputError("evaluate: give --data FILE (or data.eval in --config)");
  TaskInputs in;
  in.task = task;
  in.data = data;
  in.tokenizer = std::shared_ptr<Tokenizer>(load_tokenizer(a.model).release());
  BertConfig config = BertConfig::load(a.model + "/config.json");
  in.model_config = &config;
  in.context.device = parse_device(a.device);
  in.context.max_seq_length = config.max_position_embeddings;
  std::unique_ptr<Task> t = create_task(type, in);
  LoadOptions lo;
  lo.architecture = t->architecture();
  lo.device = in.context.device;
  lo.verbose = false;
  LoadReport report;
  BertPreTrainedModel model = load_pretrained(a.model, lo, &report);
  if (!report.missing_keys.empty())
    std::cerr << "warning: " << report.missing_keys.size() << " weights missing from " << a.model
              << " were initialised randomly (first: " << report.missing_keys[0] << ")\n";
  model->eval();
  torch::NoGradGuard ng;
  EvalOptions eo;
  eo.device = in.context.device;
  eo.batch_size = a.batch_size;
  eo.predictions_path = a.predictions;
  // Progress on stderr (stdout holds the metrics); QA counts its windows.
  std::optional<ProgressLine> progress;
  eo.on_progress = [&](int64_t done, int64_t total) {
    if (!progress) progress.emplace("evaluate:", total, type == "qa" ? "features" : "examples");
    progress->update(done);
  };
  Metrics m = t->evaluate(*model, eo);
  json::Json out = json::Json::object();
  for (auto& [k, v] : m) out[k] = v;
  std::string text = out.dump(2) + "\n";
  std::cout << text;
  if (!a.output.empty()) write_file_atomic(a.output, text);
  return 0;
}

Action setup(CLI::App& sub) {
  auto a = std::make_shared<EvalArgs>();
  sub.add_option("model", a->model, "Fine-tuned model directory or Hub id (org/name[@revision])")->required();
  sub.add_option("--config", a->config, "Run config whose task and data sections describe the dataset");
  sub.add_option("--task", a->task, "classification, ner or qa (default: task.type of --config)");
  sub.add_option("--data", a->data, "Evaluation file (overrides data.eval)");
  verbatim_values(sub.add_option("--set", a->sets, "Override a config key, e.g. --set data.text_column=sentence (repeatable)"));
  sub.add_option("-o,--output", a->output, "Also write the metrics JSON here");
  sub.add_option("--predictions", a->predictions, "Write one JSON line per example (prediction and gold)");
  sub.add_option("--batch-size", a->batch_size, "Evaluation batch size")->capture_default_str();
  sub.add_option("--device", a->device, "auto, cpu, cuda, cuda:N")->capture_default_str();
  return [a] {
    a->model = bertkit::hub::resolve_model_dir(a->model, "MODEL");  // a Hub id -> its snapshot
    return run_evaluate(*a);
  };
}

Registrar reg({"evaluate", "Score a fine-tuned checkpoint on a dataset (accuracy/F1/MCC, seqeval, SQuAD EM/F1)", setup});

}  // namespace
}  // namespace bertkit::cli
